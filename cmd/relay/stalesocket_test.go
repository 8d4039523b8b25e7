package main

import (
	"bytes"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reportline/reportline/relay/spool"
)

// TestSpoolCommandsStaleSocket: a relay that was killed (a crash, the OOM
// killer) leaves its admin socket behind, with nobody listening on it.
// `relay spool` then works on the spool file, as when the relay stopped
// cleanly, instead of failing to reach a relay that is not there: that
// is when an operator most needs to see what is pending.
func TestSpoolCommandsStaleSocket(t *testing.T) {
	dir := t.TempDir()
	spoolPath, socket := filepath.Join(dir, "spool.db"), filepath.Join(dir, "admin.sock")
	sp, err := spool.Open(spoolPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sp.Put(spool.Entry{ID: "0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012", Hotline: "h1", Site: "s1", Body: []byte("age")}); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // as a killed process leaves it
	ln.Close()

	var out bytes.Buffer
	if err := spoolCommand(&out, []string{"ls", "-spool", spoolPath, "-socket", socket}); err != nil {
		t.Fatalf("relay spool ls beside a stale admin socket: %v", err)
	}
	if !strings.Contains(out.String(), "0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012") {
		t.Errorf("relay spool ls beside a stale admin socket:\n%s\nwant the pending report", &out)
	}

	// A relay starting again holds the file before it listens on the
	// socket: the command says to try again, not to configure a socket.
	sp, err = spool.Open(spoolPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	err = spoolCommand(&out, []string{"ls", "-spool", spoolPath, "-socket", socket})
	var h hinter
	if !errors.As(err, &h) || !strings.Contains(h.Hint(), "try again in a moment") || strings.Contains(h.Hint(), "set relay.admin_socket") {
		t.Errorf("relay spool ls while a relay starts: %v, want to be told to try again", err)
	}
}

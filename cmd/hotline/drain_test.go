package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/rawhttp"
	"github.com/reportline/reportline/report"
)

// TestIntakeInboxHeldWhileDraining: an intake told to stop keeps its
// inbox until the deliveries under way are stored. A second intake
// started meanwhile (a service manager's restart, or an operator's) is
// refused, rather than writing into the inbox beside it and removing the
// temporary files of its stores; once the first has stored its last
// report and stopped, the inbox is free.
func TestIntakeInboxHeldWhileDraining(t *testing.T) {
	dir := t.TempDir()
	id, _ := age.GenerateHybridIdentity()
	idFile := filepath.Join(dir, "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	sk, pk, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	h := &hostileIntake{inbox: filepath.Join(dir, "inbox"), signer: signer, rcpts: rcpts}
	o := intakeOptions{listen: "127.0.0.1:0", identity: idFile, inbox: h.inbox, verifyKey: pk, hotline: "h1",
		path: "/v1/deliveries", tolerance: delivery.DefaultTolerance, logOut: io.Discard, alarmOut: io.Discard}

	srv, ln, log, err := o.setup()
	if err != nil {
		t.Fatal(err)
	}
	active := make(chan struct{}, 1)
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		prev(c, s)
		if s == http.StateActive {
			select {
			case active <- struct{}{}:
			default:
			}
		}
	}
	draining := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(draining) }) // called once the listener is closed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serveIntake(ctx, srv, ln, log) }()

	rid := uuid.NewString()
	req := h.attempt(t, rid, time.Now())
	c, err := rawhttp.Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cut := len(req) - 100 // the headers and most of the body
	if _, err := io.WriteString(c, req[:cut]); err != nil {
		t.Fatal(err)
	}
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(time.Minute):
			t.Fatalf("no %s after a minute", what)
		}
	}
	wait(active, "delivery under way")
	cancel() // SIGTERM
	wait(draining, "drain")

	_, ln2, _, err := o.setup()
	if err == nil {
		ln2.Close()
		releaseInbox(ln2)
		t.Error("a second intake started on the inbox while the first still stores a delivery")
	} else if !strings.Contains(err.Error(), errInboxInUse.Error()) {
		t.Errorf("a second intake while the first drains: %v, want %v", err, errInboxInUse)
	}

	if _, err := io.WriteString(c, req[cut:]); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the delivery under way when the intake was told to stop: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		t.Errorf("the delivery under way when the intake was told to stop: %s", resp.Status)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("intake: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the intake still runs a minute after its last delivery")
	}
	for _, ext := range []string{".age", ".json"} {
		if _, err := os.Stat(filepath.Join(h.inbox, rid+ext)); err != nil {
			t.Errorf("the delivery under way is not stored: %v", err)
		}
	}
	_, ln3, _, err := o.setup()
	if err != nil {
		t.Fatalf("an intake on the inbox once the first stopped: %v", err)
	}
	ln3.Close()
	releaseInbox(ln3)
}

package mailbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The crash test re-executes the test binary. The child opens the store
// named by crashPathEnv, stores one reply, prints crashMarker and kills
// itself without closing the file: a reply the relay answered 201 for
// must survive that, as a report must.
const (
	crashPathEnv = "MAILBOX_CRASH_TEST_PATH"
	crashMarker  = "MAILBOX-CRASH-CHILD-STORED"
	crashMailbox = "668fbb402f4cd7a222bc258222969b3f"
	crashCheck   = "FETlnWV-NHUSp8gpjrXd2p6YvcH8i-z3bk7KLIW0B1A"
)

func crashChild(path string) {
	s, err := Open(path, 90*24*time.Hour)
	if err == nil {
		err = s.Put("h1", crashMailbox, crashCheck, envelope(7), t0, t0.Add(time.Hour))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fmt.Println(crashMarker)
	p, _ := os.FindProcess(os.Getpid())
	p.Signal(os.Kill)
	time.Sleep(time.Minute)
	os.Exit(3) // not reached
}

func TestCrash(t *testing.T) {
	if path := os.Getenv(crashPathEnv); path != "" {
		crashChild(path)
	}
	path := t.TempDir() + "/mailbox.db"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, _ := cmd.Output() // killed: the error is expected
	if !strings.Contains(string(out), crashMarker) {
		t.Fatalf("the child did not store its reply: %q", out)
	}
	if cmd.ProcessState.Success() {
		t.Fatal("the child exited cleanly; it should have been killed")
	}
	s, err := Open(path, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// crashMailbox and crashCheck are followup's last vector's; this is
	// its request key.
	key, _ := base64.RawURLEncoding.DecodeString("mQwH-OHmn2h8QtKD5UxPLrkvO92h6XZ1YbMYVzZL3sQ")
	got, err := s.Peek("h1", crashMailbox, key, t0)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0], envelope(7)) {
		t.Fatalf("after the crash the store gave %d replies (%v), want the one stored", len(got), err)
	}
}

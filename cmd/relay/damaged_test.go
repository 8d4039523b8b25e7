package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/testbin"
)

// TestDamagedSpool: a spool file that is not a spool (a disk that lost
// it, another file in its place) stops the relay with a message that
// says so and what to do, and so do the spool commands, whose help shows
// even then.
func TestDamagedSpool(t *testing.T) {
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	s.write(t, "", `color = "#000000"`)
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	spoolPath := filepath.Join(s.dir, "spool.db")
	if err := os.WriteFile(spoolPath, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{
		{"serve", "-config", s.cfgPath, "-listen", "127.0.0.1:0"},
		{"spool", "ls", "-config", s.cfgPath},
		{"spool", "compact", "-spool", spoolPath},
	} {
		out, err := run(args...)
		if err == nil {
			t.Errorf("relay %v started on a damaged spool:\n%s", args, out)
		}
		for _, want := range []string{"damaged", "mv " + spoolPath, "docs/deployment.md"} {
			if !strings.Contains(out, want) {
				t.Errorf("relay %v:\n%s\nwant it to say %q", args, out, want)
			}
		}
	}
	for _, args := range [][]string{{"spool", "-h"}, {"spool", "help"}, {"spool", "--help"}} {
		if out, err := run(args...); err != nil || !strings.Contains(out, "relay spool ls") {
			t.Errorf("relay %v: %v\n%s\nwant the spool commands' help", args, err, out)
		}
	}
	if out, err := run("spool", "lst", "-spool", spoolPath); err == nil || !strings.Contains(out, `unknown spool command "lst"`) {
		t.Errorf("relay spool lst: %v\n%s", err, out)
	}
}

// TestDamagedMailbox: a follow-up mailbox file that is not one stops the
// relay with a message that says so and what to do, as a damaged spool
// does; started on a new file, the relay runs.
func TestDamagedMailbox(t *testing.T) {
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	mailboxPath := filepath.Join(s.dir, "mailbox.db")
	s.write(t, "mailbox = "+`"`+mailboxPath+`"`, `color = "#000000"`)
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	if err := os.WriteFile(mailboxPath, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "serve", "-config", s.cfgPath, "-listen", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("the relay started on a damaged mailbox:\n%s", out)
	}
	for _, want := range []string{"damaged", "mv " + mailboxPath + " " + mailboxPath + ".damaged", "replies", "docs/deployment.md"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("relay on a damaged mailbox:\n%s\nwant it to say %q", out, want)
		}
	}
}

package mailbox

import (
	"bytes"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/reportline/reportline/followup"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func envelope(b byte) []byte { return bytes.Repeat([]byte{b}, followup.EnvelopeSize) }

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func keys(t *testing.T) *followup.Keys {
	t.Helper()
	sec, _ := followup.NewSecret(rand.Reader)
	k, err := followup.Derive(sec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Replies wait across a restart, come out once, in order, for the right
// key only, and the mailbox is then as if it had never been used.
func TestPutTake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailbox.db")
	s := open(t, path)
	k := keys(t)
	for i := range 2 {
		if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(byte(i+1)), t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(t, path)
	other := keys(t)
	for name, try := range map[string]func() ([][]byte, error){
		"wrong key":     func() ([][]byte, error) { return s.Take("de-hotline", k.Mailbox, other.RequestKey, t0) },
		"other hotline": func() ([][]byte, error) { return s.Take("fr-hotline", k.Mailbox, k.RequestKey, t0) },
		"unknown":       func() ([][]byte, error) { return s.Take("de-hotline", other.Mailbox, other.RequestKey, t0) },
	} {
		if got, err := try(); err != nil || len(got) != 0 {
			t.Fatalf("%s: got %d replies, %v", name, len(got), err)
		}
	}
	got, err := s.Take("de-hotline", k.Mailbox, k.RequestKey, t0.Add(time.Minute))
	if err != nil || len(got) != 2 || got[0][0] != 1 || got[1][0] != 2 {
		t.Fatalf("Take = %d replies, %v; want both, in order", len(got), err)
	}
	if got, _ := s.Take("de-hotline", k.Mailbox, k.RequestKey, t0); len(got) != 0 {
		t.Fatalf("a second fetch got %d replies: read replies must be gone", len(got))
	}
	if n, _ := s.Count(); n != 0 {
		t.Fatalf("%d replies left after reading", n)
	}
}

func TestPutRefuses(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "mailbox.db"))
	k, other := keys(t), keys(t)
	for i := range followup.Slots {
		if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(byte(i+1)), t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(99), t0, t0.Add(time.Hour)); !errors.Is(err, ErrFull) {
		t.Fatalf("a fifth reply: %v, want ErrFull", err)
	}
	if err := s.Put("de-hotline", k.Mailbox, other.Check, envelope(98), t0, t0.Add(time.Hour)); !errors.Is(err, ErrCheck) {
		t.Fatalf("another check: %v, want ErrCheck", err)
	}
	if _, err := s.Take("de-hotline", k.Mailbox, k.RequestKey, t0); err != nil {
		t.Fatal(err)
	}
	// Read and gone, the same sealed reply posted again is still a replay.
	if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(1), t0, t0.Add(time.Hour)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("a replayed post: %v, want ErrReplayed", err)
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(1)[1:], t0, t0.Add(time.Hour)); err == nil {
		t.Fatal("stored a reply of the wrong size")
	}
}

// Unread replies are not given out after the retention, and Sweep
// removes them and the replay marks that ran out.
func TestRetention(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "mailbox.db"), 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := keys(t), keys(t)
	s.Put("de-hotline", a.Mailbox, a.Check, envelope(1), t0, t0.Add(time.Hour))
	s.Put("de-hotline", b.Mailbox, b.Check, envelope(2), t0.Add(47*time.Hour), t0.Add(48*time.Hour))
	if got, _ := s.Take("de-hotline", a.Mailbox, a.RequestKey, t0.Add(48*time.Hour)); len(got) != 0 {
		t.Fatal("a reply past the retention was given out")
	}
	s.Put("de-hotline", a.Mailbox, a.Check, envelope(3), t0, t0.Add(time.Hour))
	n, err := s.Sweep(t0.Add(48 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Sweep removed %d, %v; want 1", n, err)
	}
	if c, _ := s.Count(); c != 1 {
		t.Fatalf("%d replies left, want the one still within the retention", c)
	}
	// The replay mark of the first reply ran out: posting it is no longer
	// a replay (the relay refuses it for its old time instead).
	if err := s.Put("de-hotline", a.Mailbox, a.Check, envelope(1), t0.Add(48*time.Hour), t0.Add(49*time.Hour)); err != nil {
		t.Fatalf("after the sweep: %v", err)
	}
}

// Package mailboxtest is the behaviour every store of the relay's
// mailboxes must have, as docs/follow-up.md describes it, written once and
// run against each implementation (the bbolt file of package
// relay/mailbox and the JetStream buckets of package relay/natsstore).
package mailboxtest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/relay/mailbox"
)

// Store is what the relay asks of a mailbox store.
type Store interface {
	Put(hotline, mailbox, check string, envelope []byte, now, replayUntil time.Time) error
	Peek(hotline, mailbox string, requestKey []byte, now time.Time) ([][]byte, error)
	Ack(hotline, mailbox string, requestKey []byte, ids []string, now time.Time) error
	Sweep(now time.Time) (int, error)
	Count() (int, error)
}

// T0 is the time the tests start at.
var T0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// Envelope is a sealed reply of the right size, every byte b.
func Envelope(b byte) []byte { return bytes.Repeat([]byte{b}, followup.EnvelopeSize) }

// Keys derives the keys of a new receipt code.
func Keys(t *testing.T) *followup.Keys {
	t.Helper()
	sec, err := followup.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := followup.Derive(sec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Run runs every behaviour against stores from open, each new and empty,
// keeping unread replies for retention.
func Run(t *testing.T, open func(t *testing.T, retention time.Duration) Store) {
	t.Run("PeekAck", func(t *testing.T) { peekAck(t, open(t, 90*24*time.Hour)) })
	t.Run("AckKeepsNewer", func(t *testing.T) { ackKeepsNewer(t, open(t, 90*24*time.Hour)) })
	t.Run("PutRefuses", func(t *testing.T) { putRefuses(t, open(t, 90*24*time.Hour)) })
	t.Run("Retention", func(t *testing.T) { retention(t, open(t, 48*time.Hour)) })
}

// Replies come out in order for the right key only, stay through any
// number of fetches, and go when acknowledged with that key; the mailbox
// is then as if it had never been used.
func peekAck(t *testing.T, s Store) {
	k, other := Keys(t), Keys(t)
	for i := range 2 {
		if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(byte(i+1)), T0, T0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for name, try := range map[string]func() ([][]byte, error){
		"wrong key":     func() ([][]byte, error) { return s.Peek("de-hotline", k.Mailbox, other.RequestKey, T0) },
		"other hotline": func() ([][]byte, error) { return s.Peek("fr-hotline", k.Mailbox, k.RequestKey, T0) },
		"unknown":       func() ([][]byte, error) { return s.Peek("de-hotline", other.Mailbox, other.RequestKey, T0) },
	} {
		if got, err := try(); err != nil || len(got) != 0 {
			t.Fatalf("%s: got %d replies, %v", name, len(got), err)
		}
	}
	ids := []string{followup.EnvelopeID(Envelope(1)), followup.EnvelopeID(Envelope(2))}
	// Acknowledgements that must remove nothing, and say nothing.
	for name, err := range map[string]error{
		"wrong key":     s.Ack("de-hotline", k.Mailbox, other.RequestKey, ids, T0),
		"other hotline": s.Ack("fr-hotline", k.Mailbox, k.RequestKey, ids, T0),
		"unknown":       s.Ack("de-hotline", other.Mailbox, other.RequestKey, ids, T0),
		"nothing held":  s.Ack("de-hotline", k.Mailbox, k.RequestKey, []string{followup.EnvelopeID(Envelope(9))}, T0),
	} {
		if err != nil {
			t.Fatalf("ack, %s: %v; want nil, as for the right key", name, err)
		}
	}
	for range 2 {
		got, err := s.Peek("de-hotline", k.Mailbox, k.RequestKey, T0.Add(time.Minute))
		if err != nil || len(got) != 2 || got[0][0] != 1 || got[1][0] != 2 {
			t.Fatalf("Peek = %d replies, %v; want both, in order, at every fetch until acknowledged", len(got), err)
		}
	}
	if err := s.Ack("de-hotline", k.Mailbox, k.RequestKey, ids[:1], T0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Peek("de-hotline", k.Mailbox, k.RequestKey, T0); len(got) != 1 || got[0][0] != 2 {
		t.Fatalf("after acknowledging the first, Peek = %d replies; want the second", len(got))
	}
	if err := s.Ack("de-hotline", k.Mailbox, k.RequestKey, ids, T0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Peek("de-hotline", k.Mailbox, k.RequestKey, T0); len(got) != 0 {
		t.Fatalf("a fetch after the acknowledgement got %d replies: they must be gone", len(got))
	}
	if n, _ := s.Count(); n != 0 {
		t.Fatalf("%d replies left after reading", n)
	}
}

// A reply posted between a fetch and its acknowledgement is not removed
// by it: the reporter has not seen it.
func ackKeepsNewer(t *testing.T, s Store) {
	k := Keys(t)
	s.Put("de-hotline", k.Mailbox, k.Check, Envelope(1), T0, T0.Add(time.Hour))
	got, err := s.Peek("de-hotline", k.Mailbox, k.RequestKey, T0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Peek = %d, %v", len(got), err)
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(2), T0, T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack("de-hotline", k.Mailbox, k.RequestKey, []string{followup.EnvelopeID(got[0])}, T0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Peek("de-hotline", k.Mailbox, k.RequestKey, T0); len(got) != 1 || got[0][0] != 2 {
		t.Fatalf("after the acknowledgement Peek = %d replies; want the one posted since", len(got))
	}
}

func putRefuses(t *testing.T, s Store) {
	k, other := Keys(t), Keys(t)
	for i := range followup.Slots {
		if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(byte(i+1)), T0, T0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(99), T0, T0.Add(time.Hour)); !errors.Is(err, mailbox.ErrFull) {
		t.Fatalf("a fifth reply: %v, want ErrFull", err)
	}
	if err := s.Put("de-hotline", k.Mailbox, other.Check, Envelope(98), T0, T0.Add(time.Hour)); !errors.Is(err, mailbox.ErrCheck) {
		t.Fatalf("another check: %v, want ErrCheck", err)
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(1), T0, T0.Add(time.Hour)); !errors.Is(err, mailbox.ErrReplayed) {
		t.Fatalf("a replayed post into a full mailbox: %v, want ErrReplayed", err)
	}
	var ids []string
	for i := range followup.Slots {
		ids = append(ids, followup.EnvelopeID(Envelope(byte(i+1))))
	}
	if err := s.Ack("de-hotline", k.Mailbox, k.RequestKey, ids, T0); err != nil {
		t.Fatal(err)
	}
	// Read and gone, the same sealed reply posted again is still a replay.
	if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(1), T0, T0.Add(time.Hour)); !errors.Is(err, mailbox.ErrReplayed) {
		t.Fatalf("a replayed post: %v, want ErrReplayed", err)
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(1)[1:], T0, T0.Add(time.Hour)); err == nil {
		t.Fatal("stored a reply of the wrong size")
	}
	if err := s.Put("de-hotline", k.Mailbox, k.Check, Envelope(5), T0, T0.Add(time.Hour)); err != nil {
		t.Fatalf("after the acknowledgement the mailbox has room: %v", err)
	}
}

// Unread replies are not given out after the retention, and Sweep
// removes them and the replay marks that ran out.
func retention(t *testing.T, s Store) {
	a, b := Keys(t), Keys(t)
	s.Put("de-hotline", a.Mailbox, a.Check, Envelope(1), T0, T0.Add(time.Hour))
	s.Put("de-hotline", b.Mailbox, b.Check, Envelope(2), T0.Add(47*time.Hour), T0.Add(48*time.Hour))
	if got, _ := s.Peek("de-hotline", a.Mailbox, a.RequestKey, T0.Add(48*time.Hour)); len(got) != 0 {
		t.Fatal("a reply past the retention was given out")
	}
	n, err := s.Sweep(T0.Add(48 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Sweep removed %d, %v; want 1", n, err)
	}
	if c, _ := s.Count(); c != 1 {
		t.Fatalf("%d replies left, want the one still within the retention", c)
	}
	// The replay mark of the first reply ran out: posting it is no longer
	// a replay (the relay refuses it for its old time instead).
	if err := s.Put("de-hotline", a.Mailbox, a.Check, Envelope(1), T0.Add(48*time.Hour), T0.Add(49*time.Hour)); err != nil {
		t.Fatalf("after the sweep: %v", err)
	}
}

package mailbox

import (
	"bytes"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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

// Replies wait across a restart until acknowledged.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailbox.db")
	s := open(t, path)
	k := keys(t)
	if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(1), t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Peek("de-hotline", k.Mailbox, k.RequestKey, t0); err != nil || len(got) != 1 {
		t.Fatalf("Peek = %d, %v", len(got), err)
	}
	s.Close()
	s = open(t, path)
	if got, err := s.Peek("de-hotline", k.Mailbox, k.RequestKey, t0); err != nil || len(got) != 1 || !bytes.Equal(got[0], envelope(1)) {
		t.Fatalf("after a restart Peek = %d replies, %v; want the one stored", len(got), err)
	}
}

// txid is the id of the store's last committed write.
func txid(t *testing.T, s *Store) int {
	t.Helper()
	id := 0
	if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// Without the code, and without naming a reply it holds, nothing a
// reporter's request does writes to the file: a fetch never does, and an
// acknowledgement with a wrong or unknown code, or of nothing held, does
// the same read-only work as one for an empty mailbox. So the time an
// answer takes cannot tell a right code from a wrong one.
func TestOnlyTheCodeWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "mailbox.db"))
	k, other := keys(t), keys(t)
	if err := s.Put("de-hotline", k.Mailbox, k.Check, envelope(1), t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	held := []string{followup.EnvelopeID(envelope(1))}
	before := txid(t, s)
	s.Peek("de-hotline", k.Mailbox, k.RequestKey, t0)
	s.Peek("de-hotline", k.Mailbox, other.RequestKey, t0)
	s.Ack("de-hotline", k.Mailbox, other.RequestKey, held, t0)
	s.Ack("de-hotline", other.Mailbox, other.RequestKey, held, t0)
	s.Ack("de-hotline", k.Mailbox, k.RequestKey, []string{followup.EnvelopeID(envelope(2))}, t0)
	if after := txid(t, s); after != before {
		t.Fatalf("%d writes without the code and a reply it holds", after-before)
	}
	if err := s.Ack("de-hotline", k.Mailbox, k.RequestKey, held, t0); err != nil {
		t.Fatal(err)
	}
	if after := txid(t, s); after == before {
		t.Fatal("the acknowledgement with the code wrote nothing; the check above proves nothing")
	}
}

package natsstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/relay/natsstore"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
)

var _ store.Store = (*natsstore.Store)(nil)

func connect(t *testing.T, c *natstest.Cluster) *nats.Conn {
	t.Helper()
	nc, err := natsstore.Connect(natsstore.Conn{URLs: c.URLs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func open(t *testing.T, nc *nats.Conn, o natsstore.Options) *natsstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := natsstore.Open(ctx, nc, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func entry(body string) spool.Entry {
	return spool.Entry{ID: uuid.NewString(), Hotline: "de-hotline", Site: "example", Body: []byte(body)}
}

// dueWithin asks the store for due reports until it returns want of them,
// or a generous limit passes.
func dueWithin(t *testing.T, s *natsstore.Store, want int, skip func(string) bool) []spool.Entry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := s.DueSkipping(time.Now(), 16, skip, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond) // polling the store, as the forwarder does
	}
}

func none(string) bool { return false }

// TestLifecycle: a report is stored, found, handed out, retried, buried,
// revived, delivered; each step is visible to a second store instance
// (another relay) on the same cluster.
func TestLifecycle(t *testing.T) {
	c := natstest.Start(t, 1)
	o := natsstore.Options{Name: "t", Replicas: 1, AckWait: 5 * time.Second}
	a := open(t, connect(t, c), o)
	b := open(t, connect(t, c), o)

	e := entry("ciphertext")
	stored, created, err := a.Put(e)
	if err != nil || !created {
		t.Fatalf("put: %v created=%v", err, created)
	}
	// The same report again, through the other relay: not stored twice.
	if again, created, err := b.Put(e); err != nil || created || !again.Received.Equal(stored.Received) {
		t.Fatalf("put again: %v created=%v", err, created)
	}
	other := e
	other.Body = []byte("another report")
	if _, _, err := b.Put(other); !errors.Is(err, spool.ErrConflict) {
		t.Fatalf("put of another body under the same id: %v, want ErrConflict", err)
	}
	if st, err := b.Stats(); err != nil || st.Pending != 1 || st.Dead != 0 || !st.Oldest.Equal(stored.Received) {
		t.Fatalf("stats %+v, %v", st, err)
	}

	got := dueWithin(t, a, 1, none)
	if len(got) != 1 || got[0].ID != e.ID || !bytes.Equal(got[0].Body, e.Body) || got[0].Hotline != e.Hotline {
		t.Fatalf("due at a: %+v", got)
	}
	// a holds it: b is not handed it.
	if got, err := b.DueSkipping(time.Now(), 16, none, nil); err != nil || len(got) != 0 {
		t.Fatalf("due at b while a holds it: %+v, %v", got, err)
	}

	// A failed attempt: recorded, and held back until due.
	next := time.Now().Add(time.Second)
	if err := a.Reschedule(e.ID, next, "intake answered 503\nwith a newline"); err != nil {
		t.Fatal(err)
	}
	g, err := b.Get(e.ID)
	if err != nil || g.Attempts != 1 || g.LastError != "intake answered 503 with a newline" || g.NextAttempt.Unix() != next.Unix() {
		t.Fatalf("after reschedule: %+v, %v", g, err)
	}
	// Asked as of a moment before its next attempt, however long the
	// calls above took on a busy machine.
	if got, err := b.DueSkipping(next.Add(-time.Millisecond), 16, none, nil); err != nil || len(got) != 0 {
		t.Fatalf("due before its next attempt: %+v, %v", got, err)
	}
	got = dueWithin(t, b, 1, none)
	if len(got) != 1 || got[0].Attempts != 1 || time.Now().Before(next) {
		t.Fatalf("due at b after its backoff: %+v", got)
	}

	// Buried, listed as dead, revived, delivered.
	if err := b.Bury(e.ID, "intake answered 410 Gone"); err != nil {
		t.Fatal(err)
	}
	if dead, err := a.Dead(); err != nil || len(dead) != 1 || !dead[0].Dead || dead[0].LastError != "intake answered 410 Gone" {
		t.Fatalf("dead: %+v, %v", dead, err)
	}
	if st, err := a.Stats(); err != nil || st.Pending != 0 || st.Dead != 1 {
		t.Fatalf("stats after bury %+v, %v", st, err)
	}
	if err := a.Purge(uuid.NewString()); !errors.Is(err, spool.ErrNotFound) {
		t.Fatalf("purge of an unknown id: %v", err)
	}
	if err := a.Revive(e.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if pend, err := b.Due(time.Now(), 0); err != nil || len(pend) != 1 || pend[0].Attempts != 0 {
		t.Fatalf("pending after revive: %+v, %v", pend, err)
	}
	got = dueWithin(t, a, 1, none)
	if len(got) != 1 {
		t.Fatalf("due after revive: %+v", got)
	}
	if err := a.Delete(e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(e.ID); !errors.Is(err, spool.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if st, err := b.Stats(); err != nil || st.Pending != 0 || st.Dead != 0 {
		t.Fatalf("stats after delivery %+v, %v", st, err)
	}
}

// TestDeleteAll: delivered reports are removed together, those held by
// this relay and those it does not hold alike, and an id no longer
// pending is passed over, not an error.
func TestDeleteAll(t *testing.T) {
	c := natstest.Start(t, 1)
	o := natsstore.Options{Name: "t", Replicas: 1, AckWait: 5 * time.Second}
	a := open(t, connect(t, c), o)
	var ids []string
	for range 3 {
		e := entry("ciphertext")
		if _, _, err := a.Put(e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	held := dueWithin(t, a, 3, none)
	if len(held) != 3 {
		t.Fatalf("due: %+v", held)
	}
	kept := entry("not delivered")
	if _, _, err := a.Put(kept); err != nil {
		t.Fatal(err)
	}
	if n, err := a.DeleteAll(append(ids, uuid.NewString())); err != nil || n != 3 {
		t.Fatalf("DeleteAll of 3 held reports and an unknown id: %d, %v; want 3 removed", n, err)
	}
	for _, id := range ids {
		if _, err := a.Get(id); !errors.Is(err, spool.ErrNotFound) {
			t.Errorf("get %s after DeleteAll: %v", id, err)
		}
	}
	if _, err := a.Get(kept.ID); err != nil {
		t.Errorf("the report not delivered: %v", err)
	}
	if st, err := a.Stats(); err != nil || st.Pending != 1 {
		t.Fatalf("stats after DeleteAll: %+v, %v", st, err)
	}
}

// TestCrashedHolderHandsOver: reports held by a relay that stops
// answering go to another after AckWait.
func TestCrashedHolderHandsOver(t *testing.T) {
	c := natstest.Start(t, 1)
	o := natsstore.Options{Name: "t", Replicas: 1, AckWait: time.Second}
	nca := connect(t, c)
	a := open(t, nca, o)
	b := open(t, connect(t, c), o)
	e := entry("x")
	if _, _, err := a.Put(e); err != nil {
		t.Fatal(err)
	}
	if got := dueWithin(t, a, 1, none); len(got) != 1 {
		t.Fatalf("a: %+v", got)
	}
	a.Close()
	nca.Close() // a "crashes" holding the report
	if got := dueWithin(t, b, 1, none); len(got) != 1 || got[0].ID != e.ID {
		t.Fatalf("b after a crashed: %+v", got)
	}
}

// TestPurgeOnlyDead: a pending report cannot be purged.
func TestPurgeOnlyDead(t *testing.T) {
	c := natstest.Start(t, 1)
	s := open(t, connect(t, c), natsstore.Options{Name: "t", Replicas: 1})
	e := entry("x")
	if _, _, err := s.Put(e); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(e.ID); !errors.Is(err, spool.ErrInvalid) {
		t.Fatalf("purge of a pending report: %v", err)
	}
	if _, _, err := s.Put(spool.Entry{ID: "a.b", Hotline: "h", Body: []byte("x")}); !errors.Is(err, spool.ErrInvalid) {
		t.Fatalf("put of an id that is not one subject token: %v", err)
	}
}

// TestProofsShared: a proof spent at one relay is spent at every relay;
// the challenge key is the same for all.
func TestProofsShared(t *testing.T) {
	c := natstest.Start(t, 1)
	o := natsstore.Options{Name: "t", Replicas: 1}
	ctx := context.Background()
	a, err := natsstore.OpenProofs(ctx, connect(t, c), o, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natsstore.OpenProofs(ctx, connect(t, c), o, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ka, err := a.Key()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.Key()
	if err != nil || !bytes.Equal(ka, kb) || len(ka) < 32 {
		t.Fatalf("keys differ or short: %q %q %v", ka, kb, err)
	}
	var p pow.Proof
	p.ID[0] = 1
	if err := a.Spend(p, "r1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Spend(p, "r1"); err != nil {
		t.Fatalf("the same report again at b: %v", err)
	}
	if err := b.Spend(p, "r2"); !errors.Is(err, pow.ErrReplayed) {
		t.Fatalf("another report at b: %v, want ErrReplayed", err)
	}
}

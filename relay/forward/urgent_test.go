package forward

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/reportline/reportline/relay/spool"
)

// An urgent report whose first delivery failed is delivered ahead of an
// older backlog whose retries fell due before it, by a relay restarted
// meanwhile (the spool opened again, a new forwarder).
func TestUrgentDeliveredFirstOnRetryAfterRestart(t *testing.T) {
	f, stub, _ := setup(t, 200)
	path := filepath.Join(t.TempDir(), "spool.db")
	sp, err := spool.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	var backlog []string
	for i := range 4 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		put(t, sp, id, now.Add(-time.Hour+time.Duration(i)*time.Second))
		if err := sp.Reschedule(id, now.Add(-10*time.Minute+time.Duration(i)*time.Second), "intake unreachable"); err != nil {
			t.Fatal(err)
		}
		backlog = append(backlog, id)
	}
	if _, _, err := sp.Put(spool.Entry{ID: id1, Hotline: "h1", Site: "s1", Received: now.Add(-2 * time.Minute),
		Body: []byte("age-envelope-" + id1), Urgent: true}); err != nil {
		t.Fatal(err)
	}
	if err := sp.Reschedule(id1, now.Add(-time.Minute), "intake unreachable"); err != nil {
		t.Fatal(err)
	}

	// The relay restarts.
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if sp, err = spool.Open(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	g := &Forwarder{Spool: sp, Log: f.Log, Metrics: &counts{}, MinBackoff: time.Minute, MaxBackoff: time.Hour, Workers: 1}
	g.SetEndpoints(map[string]Endpoint{"h1": f.endpoints["h1"].Endpoint})
	for range 5 {
		if n, err := g.deliverDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("deliverDue = %d, %v", n, err)
		}
	}
	var got []string
	for _, p := range stub.got {
		got = append(got, p.Data.ID)
	}
	if len(got) != 5 || got[0] != id1 {
		t.Errorf("the intake received %v, want the urgent report %s first, then %v", got, id1, backlog)
	}
}

// An urgent report's retries are not spaced out by its failures: it is
// tried again after MinBackoff however often it failed, so it goes soon
// after an intake comes back; another report's backoff doubles.
func TestUrgentRetriedAtMinBackoff(t *testing.T) {
	f, _, sp := setup(t, 503)
	const other = "4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	now := time.Now()
	put(t, sp, other, now.Add(-time.Minute))
	if _, _, err := sp.Put(spool.Entry{ID: id1, Hotline: "h1", Site: "s1", Received: now.Add(-time.Minute),
		Body: []byte("age-envelope-" + id1), Urgent: true}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		for _, id := range []string{id1, other} {
			if err := sp.Reschedule(id, now.Add(-time.Second), "intake unreachable"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := f.deliverDue(context.Background()); n != 2 || err != nil {
		t.Fatalf("deliverDue = %d, %v", n, err)
	}
	u, _ := sp.Get(id1)
	o, _ := sp.Get(other)
	if wait := time.Until(u.NextAttempt); u.Attempts != 6 || !u.Urgent || wait > 80*time.Second {
		t.Errorf("urgent report after its 6th failure: attempts %d, urgent %v, next in %v; want about MinBackoff (1m ± 25%%)", u.Attempts, u.Urgent, wait)
	}
	if wait := time.Until(o.NextAttempt); wait < 20*time.Minute {
		t.Errorf("other report after its 6th failure: next in %v, want about 32 × MinBackoff (± 25%%)", wait)
	}
}

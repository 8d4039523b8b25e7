package natsstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/relay/natsstore"
	"github.com/reportline/reportline/relay/spool"
)

// TestUrgentAheadOfBacklogOnRetry: an urgent report whose first delivery
// failed is handed out ahead of an older backlog that failed too, by a
// store opened again (a relay restarted), and keeps its mark through the
// dead-letter stream and back.
func TestUrgentAheadOfBacklogOnRetry(t *testing.T) {
	c := natstest.Start(t, 1)
	o := natsstore.Options{Name: "t", Replicas: 1, AckWait: 5 * time.Second}
	nc := connect(t, c)
	a := open(t, nc, o)
	now := time.Now()
	var backlog []string
	for i := range 4 {
		e := entry(fmt.Sprint("backlog ", i))
		e.Received = now.Add(-time.Hour)
		if _, _, err := a.Put(e); err != nil {
			t.Fatal(err)
		}
		if err := a.Reschedule(e.ID, now.Add(-10*time.Minute), "intake unreachable"); err != nil {
			t.Fatal(err)
		}
		backlog = append(backlog, e.ID)
	}
	u := entry("urgent")
	u.Urgent = true
	u.Received = now.Add(-2 * time.Hour) // the oldest, though it came last
	if _, _, err := a.Put(u); err != nil {
		t.Fatal(err)
	}
	if err := a.Reschedule(u.ID, now.Add(-time.Minute), "intake unreachable"); err != nil {
		t.Fatal(err)
	}
	if g, err := a.Get(u.ID); err != nil || !g.Urgent || g.Attempts != 1 {
		t.Fatalf("after a failed attempt: %+v, %v; want it still urgent", g, err)
	}
	if st, err := a.Stats(); err != nil || st.Pending != 5 || st.Oldest.Unix() != u.Received.Unix() {
		t.Fatalf("stats %+v, %v; want 5 pending, the oldest received at %v", st, err, u.Received)
	}
	if pend, err := a.Due(time.Now(), 0); err != nil || len(pend) != 5 || pend[0].ID != u.ID {
		t.Fatalf("listed pending: %v, %v; want all 5, the urgent report first", ids(pend), err)
	}
	a.Close()

	// The relay restarts. Its forwarder has one free slot: its
	// skipHotline lets one report through and counts it.
	b := open(t, nc, o)
	var got []spool.Entry
	for deadline := time.Now().Add(2 * time.Minute); len(got) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		slots := 1
		var err error
		got, err = b.DueSkipping(time.Now(), 1, none, func(string) bool { slots--; return slots < 0 })
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].ID != u.ID || !got[0].Urgent {
		t.Fatalf("due after a restart: %v, want the urgent report %s first (backlog %v)", ids(got), u.ID, backlog)
	}
	if err := b.Bury(u.ID, "too old"); err != nil {
		t.Fatal(err)
	}
	if g, err := b.Get(u.ID); err != nil || !g.Dead || !g.Urgent {
		t.Fatalf("buried: %+v, %v; want dead and still urgent", g, err)
	}
	if err := b.Revive(u.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	got = dueWithin(t, b, 5, none)
	if len(got) == 0 || got[0].ID != u.ID || !got[0].Urgent {
		t.Fatalf("due after revival: %v, want the urgent report first", ids(got))
	}
	for _, e := range got {
		if err := b.Delete(e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := b.Stats(); err != nil || st.Pending+st.Dead != 5-len(got) {
		t.Fatalf("stats after delivery %+v, %v", st, err)
	}
}

func ids(es []spool.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

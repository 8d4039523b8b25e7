package spool

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// urgentAt returns an entry marked urgent, due at t0+d.
func urgentAt(id string, d time.Duration) Entry {
	e := at(id, d)
	e.Urgent = true
	return e
}

// An urgent report whose first delivery failed is listed ahead of a
// backlog that fell due before it, retries and first attempts alike, and
// stays so after the file is compacted, closed and opened again, and
// after the report is buried and revived.
func TestUrgentAheadOfBacklogOnRetry(t *testing.T) {
	s, path := openTemp(t)
	for i := range 6 {
		mustPut(t, s, at(fmt.Sprintf("old%02d", i), time.Duration(i)*time.Second))
	}
	// Half the backlog failed once already and is due again a minute on.
	for i := range 3 {
		if err := s.Reschedule(fmt.Sprintf("old%02d", i), t0.Add(time.Minute), "intake unreachable"); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, s, urgentAt("urgent", 10*time.Second))
	if err := s.Reschedule("urgent", t0.Add(2*time.Minute), "intake unreachable"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	check := func(when string) {
		t.Helper()
		for _, limit := range []int{0, 1, 2, 4} {
			due, err := s.Due(t0.Add(time.Hour), limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(due) == 0 || due[0].ID != "urgent" || !due[0].Urgent {
				t.Errorf("%s: Due(limit %d) = %v, want the urgent report first", when, limit, ids(due))
			}
			if limit == 0 && len(due) != 7 {
				t.Errorf("%s: Due without limit = %v, want all 7 reports once", when, ids(due))
			}
		}
		// Not before it is due: an urgent report keeps its backoff.
		due, err := s.Due(t0.Add(90*time.Second), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range due {
			if e.ID == "urgent" {
				t.Errorf("%s: the urgent report is listed before its next attempt", when)
			}
		}
		// Skipped, it does not count toward the limit.
		due, _ = s.DueSkipping(t0.Add(time.Hour), 1, func(id string) bool { return id == "urgent" }, nil)
		if len(due) != 1 || due[0].ID == "urgent" {
			t.Errorf("%s: DueSkipping the urgent report = %v", when, ids(due))
		}
	}
	check("after a failed attempt")
	if _, _, err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	check("after the file was compacted")

	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	checkInvariants(t, s)
	check("after the spool was opened again")

	if err := s.Bury("urgent", "too old"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if e, err := s.Get("urgent"); err != nil || !e.Urgent || !e.Dead {
		t.Errorf("buried: Get = %+v, %v; want dead and still urgent", e, err)
	}
	if err := s.Revive("urgent", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	check("after it was buried and revived")
	if err := s.Delete("urgent"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if due, _ := s.Due(t0.Add(time.Hour), 0); len(due) != 6 {
		t.Errorf("after delivery: Due = %v", ids(due))
	}
}

// A file made before the urgent index existed gets one when opened, and
// its version 1 records read as not urgent.
func TestUrgentIndexAddedToOldFile(t *testing.T) {
	s, path := openTemp(t)
	mustPut(t, s, at("a", 0), at("b", time.Second))
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketUrgent) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	checkInvariants(t, s)
	mustPut(t, s, urgentAt("u", 2*time.Second))
	checkInvariants(t, s)
	due, err := s.Due(t0.Add(time.Hour), 0)
	if err != nil || len(due) != 3 || due[0].ID != "u" || due[1].Urgent || due[2].Urgent {
		t.Errorf("Due = %v, %v; want u first and the old reports not urgent", ids(due), err)
	}
}

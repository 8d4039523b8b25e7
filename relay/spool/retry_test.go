package spool

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A retry that fell due is listed ahead of a backlog of first attempts
// that fell due before it.
func TestDueRetriesBeforeBacklog(t *testing.T) {
	s, _ := openTemp(t)
	for i := range 20 {
		mustPut(t, s, at(fmt.Sprintf("fresh%02d", i), time.Duration(i)*time.Second))
	}
	mustPut(t, s, at("failed", 0))
	if err := s.Reschedule("failed", t0.Add(time.Minute), "intake answered 503"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	due, err := s.Due(t0.Add(time.Hour), 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 4 || due[0].ID != "failed" || due[1].ID != "fresh00" || due[3].ID != "fresh02" {
		t.Errorf("Due = %v, want the retry first, then the oldest first attempts", ids(due))
	}
	// Not before it is due.
	due, _ = s.Due(t0.Add(30*time.Second), 4)
	if len(due) != 4 || due[0].ID != "fresh00" {
		t.Errorf("Due before the retry's time = %v", ids(due))
	}
	// Without a limit, every report once.
	due, _ = s.Due(t0.Add(time.Hour), 0)
	if len(due) != 21 || due[0].ID != "failed" {
		t.Errorf("Due without limit = %d reports, first %v", len(due), ids(due[:1]))
	}
	// Skipped reports are passed over and do not count.
	due, _ = s.DueSkipping(t0.Add(time.Hour), 2, func(id string) bool { return id == "failed" || id == "fresh00" }, nil)
	if len(due) != 2 || due[0].ID != "fresh01" || due[1].ID != "fresh02" {
		t.Errorf("DueSkipping = %v", ids(due))
	}
	// And by hotline, unread beyond it.
	due, _ = s.DueSkipping(t0.Add(time.Hour), 0, nil, func(h string) bool { return h == "hl-test" })
	if len(due) != 0 {
		t.Errorf("DueSkipping by hotline = %v", ids(due))
	}
	// Delivered, buried or revived, the retry key goes with the report.
	if err := s.Bury("failed", "too old"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if err := s.Revive("failed", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if err := s.Reschedule("failed", t0.Add(time.Minute), "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("failed"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
}

// A file made before the retry index existed gets one when opened.
func TestRetryIndexAddedToOldFile(t *testing.T) {
	s, path := openTemp(t)
	mustPut(t, s, at("a", 0))
	mustPut(t, s, at("b", 0))
	if err := s.Reschedule("b", t0.Add(time.Minute), "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketRetry) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkInvariants(t, s)
	due, _ := s.Due(t0.Add(time.Hour), 2)
	if len(due) != 2 || due[0].ID != "b" {
		t.Errorf("Due = %v, want the retry first", ids(due))
	}
}

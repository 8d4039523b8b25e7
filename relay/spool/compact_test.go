package spool

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fillAndDrain puts n reports of size bytes from many writers at once, as
// a busy relay would, calls filled, then deletes them all the same way,
// calling beforeLast before the last delete.
func fillAndDrain(t *testing.T, s *Spool, n, size int, filled, beforeLast func()) {
	t.Helper()
	body := bytes.Repeat([]byte("c"), size)
	run := func(op func(i int) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 256 {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= n-1 {
						return
					}
					if err := op(i); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	put := func(i int) error {
		e := testEntry(fmt.Sprintf("r%06d", i))
		e.Body = body
		_, _, err := s.Put(e)
		return err
	}
	run(put)
	if err := put(n - 1); err != nil {
		t.Fatal(err)
	}
	filled()
	run(func(i int) error { return s.Delete(fmt.Sprintf("r%06d", i)) })
	beforeLast()
	if err := s.Delete(fmt.Sprintf("r%06d", n-1)); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// After 50,000 reports were accepted and delivered, the file is back near
// the size of an empty spool: the commit loop compacts it online once the
// backlog has drained.
func TestCompactsOnlineAfterDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50,000 reports")
	}
	s, path := openTemp(t)
	if err := s.Writable(); err != nil {
		t.Fatal(err)
	}
	empty := fileSize(t, path)
	var peak int64
	fillAndDrain(t, s, 50_000, 2<<10, func() { peak = fileSize(t, path) }, func() {
		// The loop looks at its next commit, not up to ten seconds on.
		s.nextCheck = s.nextCheck.AddDate(-1, 0, 0)
	})
	// A write after the last delete runs after the loop has looked.
	mustPut(t, s, at("after", 0))
	got := fileSize(t, path)
	t.Logf("empty %d bytes, full %d, after draining %d", empty, peak, got)
	if peak < compactMinSize {
		t.Fatalf("the backlog made a file of only %d bytes, too small to be compacted", peak)
	}
	if got > 4*empty {
		t.Errorf("after draining the file has %d bytes, an empty spool %d", got, empty)
	}
	checkInvariants(t, s)
	if _, err := s.Get("after"); err != nil {
		t.Error(err)
	}
}

// Compact keeps every report, pending and dead, and the spool stays usable.
func TestCompactKeepsReports(t *testing.T) {
	s, path := openTemp(t)
	for i := range 50 {
		mustPut(t, s, at(fmt.Sprintf("p%02d", i), 0))
	}
	mustBury(t, s, "p00", "gone")
	if err := s.Reschedule("p01", t0.Add(60e9), "503"); err != nil {
		t.Fatal(err)
	}
	before, after, err := s.Compact()
	if err != nil || before <= 0 || after <= 0 {
		t.Fatalf("Compact = %d, %d, %v", before, after, err)
	}
	checkInvariants(t, s)
	if st, _ := s.Stats(); st.Pending != 49 || st.Dead != 1 {
		t.Errorf("after Compact: %+v", st)
	}
	if e, err := s.Get("p01"); err != nil || e.Attempts != 1 {
		t.Errorf("rescheduled report after Compact: %+v, %v", e, err)
	}
	mustPut(t, s, at("new", 0))
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st, _ := s2.Stats(); st.Pending != 50 || st.Dead != 1 {
		t.Errorf("reopened after Compact: %+v", st)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("the copy was left beside the spool: %v", err)
	}
}

// A spool opened with more than half of a large file free is compacted.
func TestCompactsAtOpen(t *testing.T) {
	s, path := openTemp(t)
	// No online compaction during this test.
	s.nextCheck = s.nextCheck.AddDate(100, 0, 0)
	mustPut(t, s, at("kept", 0))
	var big int64
	fillAndDrain(t, s, 12_000, 4<<10, func() { big = fileSize(t, path) }, func() {})
	if big < compactMinSize {
		t.Fatalf("the backlog made a file of only %d bytes", big)
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := fileSize(t, path); got > big/8 {
		t.Errorf("reopened: %d bytes, before %d", got, big)
	}
	if _, err := s.Get("kept"); err != nil {
		t.Error(err)
	}
	checkInvariants(t, s)
}

// The file is free for a moment while a compaction puts its copy in
// place: another process that opens it then (an operator's `relay spool`
// waiting for the lock) holds it for a while. The compaction waits for it
// and goes on with the spool open, rather than leaving the spool closed
// until the relay is restarted.
func TestCompactWaitsForAnotherHolder(t *testing.T) {
	s, path := openTemp(t)
	mustPut(t, s, at("kept", 0))
	released := make(chan struct{})
	s.renamed = func() {
		other, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Minute})
		if err != nil {
			t.Errorf("another process opening the spool: %v", err)
			close(released)
			return
		}
		go func() {
			defer close(released)
			// Held for longer than one wait for the lock, as a listing
			// of a large spool may be.
			<-time.After(3 * lockTimeout)
			other.Close()
		}()
	}
	if _, _, err := s.Compact(); err != nil {
		t.Errorf("Compact while another process held the file for a while: %v", err)
	}
	<-released
	s.renamed = nil
	if _, err := s.Get("kept"); err != nil {
		t.Errorf("Get after the compaction: %v", err)
	}
	mustPut(t, s, at("after", 0))
	checkInvariants(t, s)
}

package spool

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// holdWriter takes bbolt's writer lock until the returned function is
// called, so that the writes queued meanwhile form one group.
func holdWriter(t *testing.T, s *Spool) (release func()) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	go s.db.Update(func(*bolt.Tx) error {
		close(held)
		<-done
		return nil
	})
	<-held
	return func() { close(done) }
}

// waitQueued waits until n writes wait for the group commit.
func waitQueued(t *testing.T, s *Spool, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.group.waiting.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes waiting, want %d", s.group.waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Writes that arrive while a commit is under way share the next one.
func TestGroupCommit(t *testing.T) {
	s, _ := openTemp(t)
	release := holdWriter(t, s)
	before := s.group.commits.Load()
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	// The first write taken by the loop waits for the lock; the others
	// queue behind it.
	for i := range n {
		wg.Go(func() { _, _, errs[i] = s.Put(at(fmt.Sprintf("r%02d", i), 0)) })
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put %d: %v", i, err)
		}
	}
	if got := s.group.commits.Load() - before; got > 2 {
		t.Errorf("%d writes took %d commits, want at most 2 (the first alone, then the rest together)", n, got)
	}
	if st, _ := s.Stats(); st.Pending != n {
		t.Errorf("Pending = %d, want %d", st.Pending, n)
	}
	checkInvariants(t, s)
}

// One write's failure is its own: the others of its group are stored, and
// each caller gets its own answer.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("taken", 0))
	mustPut(t, s, at("gone", 0))
	if err := s.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	conflict := at("taken", 0)
	conflict.Body = []byte("another body")
	var wg sync.WaitGroup
	var errConflict, errDelete, errDup error
	var dupCreated bool
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = s.Put(at(fmt.Sprintf("a%d", i), 0)) })
	}
	wg.Go(func() { _, _, errConflict = s.Put(conflict) })
	wg.Go(func() { errDelete = s.Delete("gone") })
	wg.Go(func() { _, dupCreated, errDup = s.Put(at("taken", 0)) })
	waitQueued(t, s, len(errs)+3)
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put a%d: %v", i, err)
		}
	}
	if !errors.Is(errConflict, ErrConflict) {
		t.Errorf("conflicting Put: %v, want ErrConflict", errConflict)
	}
	if !errors.Is(errDelete, ErrNotFound) {
		t.Errorf("Delete of a deleted report: %v, want ErrNotFound", errDelete)
	}
	if errDup != nil || dupCreated {
		t.Errorf("repeated Put: created %v, %v; want an idempotent success", dupCreated, errDup)
	}
	if st, _ := s.Stats(); st.Pending != len(errs)+1 {
		t.Errorf("Pending = %d, want %d", st.Pending, len(errs)+1)
	}
	checkInvariants(t, s)
}

// Close commits the writes already queued; later writes get ErrClosed.
func TestCloseCommitsQueued(t *testing.T) {
	s, path := openTemp(t)
	release := holdWriter(t, s)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = s.Put(at(fmt.Sprintf("q%d", i), 0)) })
	}
	waitQueued(t, s, len(errs))
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put q%d queued before Close: %v", i, err)
		}
	}
	if _, _, err := s.Put(at("late", 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v, want ErrClosed", err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st, _ := s2.Stats(); st.Pending != len(errs) {
		t.Errorf("after reopening, Pending = %d, want %d", st.Pending, len(errs))
	}
}

// Commits counts each committed write transaction once, whatever it holds
// (one report, a group of them, a batch of removals), not the failed ones,
// and their time, which cannot exceed the time the writes took in all.
func TestCommitsCounted(t *testing.T) {
	start := time.Now()
	s, _ := openTemp(t)
	if c := s.Commits(); c.N != 0 || c.Time != 0 {
		t.Fatalf("a new spool counts %+v, want nothing", c)
	}
	for _, id := range []string{"a", "b", "c"} {
		mustPut(t, s, at(id, 0))
	}
	c := s.Commits()
	if c.N != 3 || c.Time <= 0 {
		t.Fatalf("after three Puts one after another: %+v, want 3 commits and their time", c)
	}

	// Puts queued behind one commit share the next: each transaction
	// counts once.
	ran := s.group.commits.Load()
	release := holdWriter(t, s)
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { s.Put(at(fmt.Sprintf("g%02d", i), 0)) })
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()
	g := s.Commits()
	if st, _ := s.Stats(); st.Pending != 3+n {
		t.Fatalf("Pending = %d, want %d", st.Pending, 3+n)
	}
	tx := s.group.commits.Load() - ran
	if d := g.N - c.N; d != tx || d >= n || g.Time <= c.Time {
		t.Errorf("%d Puts in %d transactions counted %d commits (time %v → %v), want one a transaction and more time", n, tx, d, c.Time, g.Time)
	}

	// Delivered reports removed together: one commit.
	if k, err := s.DeleteAll([]string{"a", "b", "c"}); err != nil || k != 3 {
		t.Fatalf("DeleteAll: %d, %v", k, err)
	}
	d := s.Commits()
	if d.N != g.N+1 {
		t.Errorf("DeleteAll of three reports: %d commits, want 1", d.N-g.N)
	}

	// A write that fails commits nothing.
	if err := s.Delete("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a missing report: %v", err)
	}
	if e := s.Commits(); e != d {
		t.Errorf("a failed Delete changed the commits from %+v to %+v", d, e)
	}
	if el := time.Since(start); d.Time > el {
		t.Errorf("commit time %v exceeds the %v the test ran", d.Time, el)
	}
}

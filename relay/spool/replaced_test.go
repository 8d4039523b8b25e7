//go:build linux

package spool

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// openCount counts this process's open files that are the file at path.
func openCount(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

// A process that waits for the spool's lock while the file is replaced
// (a compaction puts its copy in place) opens the new file, not the one
// it waited for: what it wrote there would be lost with it.
func TestOpenFollowsAReplacedFile(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = time.Minute // the wait below must not time out on a loaded machine
	dir := t.TempDir()
	path, other := filepath.Join(dir, "spool.db"), filepath.Join(dir, "copy.db")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, first, at("in-the-old-file", 0))
	cp, err := Open(other)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, cp, at("in-the-copy", 0))
	cp.Close()

	type result struct {
		s   *Spool
		err error
	}
	opened := make(chan result, 1)
	go func() {
		s, err := Open(path)
		opened <- result{s, err}
	}()
	// Wait until the second opener holds the file open, waiting for its
	// lock.
	for deadline := time.Now().Add(time.Minute); openCount(t, path) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second Open never opened the file")
		}
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	first.Close()
	var r result
	select {
	case r = <-opened:
	case <-time.After(2 * time.Minute):
		t.Fatal("the second Open did not return")
	}
	if r.err != nil {
		t.Fatalf("the second Open: %v", r.err)
	}
	defer r.s.Close()
	if _, err := r.s.Get("in-the-copy"); err != nil {
		t.Errorf("the second Open does not hold the file now at the path: Get = %v", err)
	}
	if _, err := r.s.Get("in-the-old-file"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the second Open holds the replaced file: Get = %v", err)
	}
}

// A compaction puts its copy in place while the old file is still open
// and locked, so that no other process can take the old file between the
// two and write to it.
func TestCompactRenamesBeforeRelease(t *testing.T) {
	s, path := openTemp(t)
	mustPut(t, s, at("kept", 0))
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	checked := false
	s.renamed = func() {
		checked = true
		if renamed, err := os.Stat(path); err == nil {
			if st, err := old.Stat(); err == nil && os.SameFile(st, renamed) {
				t.Error("the copy is not in place yet when the hook runs")
			}
		}
		// Another process's try for the old file's lock fails: the
		// spool still holds it.
		if err := syscall.Flock(int(old.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			syscall.Flock(int(old.Fd()), syscall.LOCK_UN)
			t.Error("the old file was released before its copy took its name")
		}
	}
	if _, _, err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	s.renamed = nil
	if !checked {
		t.Fatal("the compaction never put its copy in place")
	}
	if _, err := s.Get("kept"); err != nil {
		t.Errorf("Get after the compaction: %v", err)
	}
	checkInvariants(t, s)
}

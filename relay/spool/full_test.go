package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountSmall mounts a tmpfs of size bytes on a new folder, so that a test
// can fill a real file system; it needs root and is skipped without.
func mountSmall(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) }) // detached even if a failed test left a file open
	return dir
}

// On a full disk Writable fails while a report would fail to be stored,
// and passes again once there is room, without reopening the spool.
func TestWritableOnFullDisk(t *testing.T) {
	dir := mountSmall(t, 4<<20)
	s, err := Open(filepath.Join(dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Ballast to free later, then reports until the disk is full.
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, bytes.Repeat([]byte{1}, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Writable(); err != nil {
		t.Fatalf("Writable with room: %v", err)
	}
	body := bytes.Repeat([]byte("x"), 10<<10)
	full := false
	for i := range 1000 {
		e := testEntry(fmt.Sprintf("r%04d", i))
		e.Body = body
		if _, _, err := s.Put(e); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Logf("Put failed with %v", err)
			}
			full = true
			break
		}
	}
	if !full {
		t.Fatal("the disk never filled")
	}
	if err := s.Writable(); err == nil {
		t.Error("Writable passed while a 10 KB report could not be stored")
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if err := s.Writable(); err != nil {
		t.Errorf("Writable after room was made: %v", err)
	}
	e := testEntry("after")
	e.Body = body
	if _, _, err := s.Put(e); err != nil {
		t.Errorf("Put after Writable passed: %v", err)
	}
	checkInvariants(t, s)
}

// fillDisk writes a file in dir until the disk is full, and returns its
// path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4<<10)
	for range (1 << 30) / len(buf) { // bounded: the disks of these tests are far smaller
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
	t.Fatal("the disk never filled")
	return ""
}

// A spool that a drained backlog left large and mostly free, on a full
// disk, still opens: compacting it at open needs room for the copy, but
// it is only to give disk back, so its failure leaves the file in use as
// it was (and says so), instead of keeping the relay from starting and
// delivering. Once there is room, the next open compacts it.
func TestOpenCompactsNotOnFullDisk(t *testing.T) {
	dir := mountSmall(t, 96<<20)
	path := filepath.Join(dir, "spool.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.nextCheck = s.nextCheck.AddDate(100, 0, 0) // no online compaction
	mustPut(t, s, at("kept", 0))
	var big int64
	fillAndDrain(t, s, 9_000, 4<<10, func() { big = fileSize(t, path) }, func() {})
	if big < compactMinSize {
		t.Fatalf("the backlog made a file of only %d bytes", big)
	}
	s.Close()
	ballast := fillDisk(t, dir)

	s, err = Open(path)
	if err != nil {
		t.Fatalf("Open of a mostly free spool on a full disk: %v", err)
	}
	if err := s.CompactAtOpenErr(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("CompactAtOpenErr = %v, want the full disk", err)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("the failed compaction left its copy: %v", err)
	}
	if got, err := s.Get("kept"); err != nil || !bytes.Equal(got.Body, testEntry("kept").Body) {
		t.Errorf("Get(kept) = %v, %v", got, err)
	}
	if err := s.Delete("kept"); err != nil {
		t.Errorf("Delete on the full disk, from a file with free pages: %v", err)
	}
	checkInvariants(t, s)
	s.Close()

	os.Remove(ballast)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CompactAtOpenErr(); err != nil {
		t.Errorf("CompactAtOpenErr with room = %v", err)
	}
	if got := fileSize(t, path); got > big/8 {
		t.Errorf("reopened with room: %d bytes, before %d", got, big)
	}
}

// OpenReadOnly lists what the spool holds without writing to it; it
// refuses writes and compaction, waits for no relay that holds the file,
// and refuses a file of an older format, which it cannot upgrade.
func TestOpenReadOnly(t *testing.T) {
	s, path := openTemp(t)
	mustPut(t, s, at("a", 0))
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrLocked) {
		t.Errorf("OpenReadOnly while the spool is open = %v, want ErrLocked", err)
	}
	s.Close()
	before := fileSize(t, path)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if due, err := ro.Due(t0.Add(time.Hour), 0); err != nil || len(due) != 1 || due[0].ID != "a" {
		t.Errorf("Due = %v, %v", ids(due), err)
	}
	if _, _, err := ro.Put(at("b", 0)); err == nil {
		t.Error("Put on a read-only spool succeeded")
	}
	if _, _, err := ro.Compact(); err == nil {
		t.Error("Compact on a read-only spool succeeded")
	}
	ro.Close()
	if got := fileSize(t, path); got != before {
		t.Errorf("the file changed size: %d, was %d", got, before)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	makeFormat2(t, old, 3)
	if _, err := OpenReadOnly(old); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("OpenReadOnly of a format 2 file = %v, want it refused", err)
	}
}

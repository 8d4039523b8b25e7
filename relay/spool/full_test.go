package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// mountSmall mounts a tmpfs of size bytes on a new folder, so that a test
// can fill a real file system; it needs root and is skipped without.
func mountSmall(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
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

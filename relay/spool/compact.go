package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Compaction gives disk back. bbolt reuses the pages a drained backlog
// freed but never shrinks its file: a spool that once held 77,000 reports
// kept its 890 MB when empty. Compacting copies the live data to a new
// file, fsyncs it and renames it over the old one.
//
// It happens at three points: when the spool is opened and more than half
// of a large file is free; online, from the commit loop, once a large
// file holds little live data (so the copy takes milliseconds and writes
// wait no longer than that); and on demand with [Spool.Compact]
// (`relay spool compact`).
const (
	// compactMinSize is the file size below which compacting is not
	// worth it.
	compactMinSize = 32 << 20
	// compactOnlineMaxLive bounds the live data of an online compaction,
	// and so how long it holds up writes.
	compactOnlineMaxLive = 8 << 20
	// compactCheckEvery is how often the commit loop looks.
	compactCheckEvery = 10 * time.Second
	// compactTxSize bounds the size of one transaction of the copy.
	compactTxSize = 64 << 20
)

// usage returns the file's size and the bytes in free pages.
func usage(db *bolt.DB) (size, free int64) {
	st := db.Stats()
	free = int64(st.FreeAlloc)
	db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	return size, free
}

// compactAtOpen reports whether more than half of a large file is free.
func compactAtOpen(db *bolt.DB) bool {
	size, free := usage(db)
	return size >= compactMinSize && free > size/2
}

// compactIfDrained compacts online, from the commit loop, when a large
// file holds little live data. It looks at most every compactCheckEvery.
func (s *Spool) compactIfDrained(now time.Time) {
	if s.readOnly || now.Before(s.nextCheck) {
		return
	}
	s.nextCheck = now.Add(compactCheckEvery)
	s.dbMu.RLock()
	db := s.db
	var size, free int64
	if db != nil {
		size, free = usage(db)
	}
	s.dbMu.RUnlock()
	if size < compactMinSize || size-free > compactOnlineMaxLive {
		return
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return
	}
	// A failure leaves the spool as it was, or, if the new file could not
	// be opened, closed; either way the next write reports it.
	s.compactLocked()
}

// CompactAtOpenErr returns why compacting the file when it was opened
// failed (for lack of room for the copy, say), or nil. Such a failure
// leaves the file in use as it was: compacting only gives disk back.
func (s *Spool) CompactAtOpenErr() error { return s.compactErr }

// Compact copies the spool's live data to a new file that replaces the
// old one, and returns the file's size before and after. Writes and reads
// wait while it runs, which takes as long as copying the live data.
func (s *Spool) Compact() (before, after int64, err error) {
	if s.closed.Load() {
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, ErrClosed)
	}
	if s.readOnly {
		return 0, 0, fmt.Errorf("compact spool %s: opened read-only", s.path)
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, ErrClosed)
	}
	return s.compactLocked()
}

// compactLocked compacts with dbMu held for writing (or before the spool
// is shared). If the new file cannot be made, the old one stays in use; if
// it was put in place but cannot be opened, s.db is nil and the spool is
// closed.
func (s *Spool) compactLocked() (before, after int64, err error) {
	before, _ = usage(s.db)
	tmp := s.path + ".compact"
	os.Remove(tmp)
	dst, err := openDB(tmp)
	if err != nil {
		os.Remove(tmp) // made, but not written whole (a full disk)
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, err)
	}
	if err := bolt.Compact(dst, s.db, compactTxSize); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, err)
	}
	after, _ = usage(dst)
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, err)
	}
	// The copy takes the name while the old file is still open and
	// locked: another process waiting for the lock (an operator's `relay
	// spool`) gets it only once the name is the copy's, and openDB then
	// opens the copy. Were the old file closed first, that process could
	// take it in between and write to a file about to be replaced.
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, err) // the old file stays in use
	}
	syncErr := syncDir(filepath.Dir(s.path))
	if s.renamed != nil {
		s.renamed()
	}
	// Nothing was written to the old file since the copy (dbMu is held),
	// so an error closing it loses nothing.
	s.db.Close()
	if s.db, err = reopen(s.path); err != nil {
		s.db = nil
		return 0, 0, fmt.Errorf("compact spool %s: reopen: %w", s.path, errors.Join(syncErr, err))
	}
	if syncErr != nil {
		return 0, 0, fmt.Errorf("compact spool %s: %w", s.path, syncErr)
	}
	return before, after, nil
}

// reopenTries bounds how many times reopen waits lockTimeout for the
// file.
const reopenTries = 300

// reopen opens the file again after a compaction put its copy in place.
// The file was free for a moment: another process may have opened it then
// (an operator's `relay spool`, waiting for the lock), and the spool
// waits for it to let go rather than stay closed.
func reopen(path string) (*bolt.DB, error) {
	for range reopenTries - 1 {
		db, err := openDB(path)
		if !errors.Is(err, berrors.ErrTimeout) {
			return db, err
		}
	}
	return openDB(path)
}

// syncDir fsyncs a folder, so that a rename in it is on disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

package intake

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// flusher makes the files the intake stores in one folder durable, and
// shares that work among the reports stored at the same time.
//
// Grouped (Linux 5.8 and later): files are written without an fsync each,
// then one syncfs of the inbox's filesystem serves every report waiting
// when it starts. A report takes two of them: one for the data, before any
// name points at it, and one for the names after the renames. Where the
// filesystem can, the files are written without a name (O_TMPFILE) and
// linked instead of renamed: half the work in the folder, and a crash
// leaves no temporary file behind. Portable
// (elsewhere): each file is fsynced before its rename, and the reports
// stored together share the fsync of the folder.
type flusher struct {
	mu      sync.Mutex // guards the fields below it
	ready   bool       // grouped, dir and group are set
	grouped bool
	unnamed bool     // files are written unnamed, then linked (grouped)
	dir     *os.File // the folder, open since before its first write (grouped)
	group   groupSync
	failed  atomic.Uint64 // grouped flushes that failed so far
	flushes atomic.Uint64 // flushes so far (grouped or portable),
	errs    atomic.Uint64 // those that failed,
	busy    atomic.Int64  // and the nanoseconds they took together

	// portable, if set, forces the portable way, for tests.
	portable bool
	// wrap, if set, runs each shared flush, for tests.
	wrap func(flush func() error) error
}

// begin prepares the flusher for a report about to be written into dir,
// and returns what flush needs to check that no write-back error was
// reported since.
func (fl *flusher) begin(dir string) (epoch uint64, err error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if !fl.ready {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return 0, fmt.Errorf("failed to create inbox: %w", err)
		}
		grouped := !fl.portable && groupedFlush()
		flush := func() error { return syncDir(dir) }
		if grouped {
			// Opened before the first file is written: syncfs reports
			// the write-back errors that happened since the file it is
			// given was opened.
			d, err := os.Open(dir)
			if err != nil {
				return 0, fmt.Errorf("failed to open inbox: %w", err)
			}
			fl.dir = d
			fl.unnamed = unnamedFiles(dir)
			flush = func() error {
				if err := syncFS(d); err != nil {
					fl.failed.Add(1)
					return fmt.Errorf("failed to sync inbox: %w", err)
				}
				return nil
			}
		}
		fl.group.do = func() (err error) {
			start := time.Now()
			defer func() {
				fl.busy.Add(int64(time.Since(start)))
				fl.flushes.Add(1)
				if err != nil {
					fl.errs.Add(1)
				}
			}()
			if fl.wrap != nil {
				return fl.wrap(flush)
			}
			return flush()
		}
		fl.grouped, fl.ready = grouped, true
	}
	return fl.failed.Load(), nil
}

// errEarlierFlush is a write-back error reported to a flush other than the
// caller's, after the caller began writing: it may have been the caller's.
var errEarlierFlush = errors.New("failed to sync inbox: a write error was reported while this report was written")

// flush returns once everything written into the folder before the call
// is durable (grouped), or the names renamed into it are (portable).
//
// Why one syncfs makes a report durable: syncfs(2) writes back every
// dirty page and inode of the filesystem and waits for them, then has the
// filesystem commit its journal and flush the disk's cache (ext4 and xfs
// do both). A file written, or a rename made, before the syncfs started is
// in what it writes and commits, whoever started it. A rename is made
// only after the data it names is durable (the first flush), because after
// a crash a renamed file whose data was still in memory can come back
// empty (delayed allocation), and an existing file counts as stored.
//
// Since Linux 5.8 syncfs returns the write-back errors the filesystem met
// since the open file it was given last saw them (groupedFlush checks the
// version). One syncfs can thus report an error that belongs to another
// report's data: every report that began before an error was reported,
// and so might own it, fails (epoch, from begin).
func (fl *flusher) flush(epoch uint64) error {
	if err := fl.group.sync(); err != nil {
		return err
	}
	if fl.grouped && fl.failed.Load() != epoch {
		return errEarlierFlush
	}
	return nil
}

package intake

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// tempPrefix begins the name of a file written under a temporary name.
const tempPrefix = ".tmp-"

// RemoveTemporary removes from inbox and its urgent folder the temporary
// files of stores that a crash cut short, and returns how many there
// were. Such files exist only where the filesystem cannot write files
// unnamed (O_TMPFILE), and no report counts as stored until both of its
// files have their names, so none of them is part of a report. The intake
// calls it at start, so that repeated crashes pile nothing up.
func RemoveTemporary(inbox string) (int, error) {
	n := 0
	var errs []error
	for _, dir := range []string{inbox, filepath.Join(inbox, UrgentDir)} {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("failed to remove temporary files: %w", err)
	}
	return n, nil
}

// Writable checks that the intake can make files in inbox, so that it
// refuses to start rather than fail every delivery.
func Writable(inbox string) error {
	f, err := os.CreateTemp(inbox, tempPrefix+"probe-*")
	if err != nil {
		return fmt.Errorf("the inbox is not writable: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// WriteFileAtomic writes data to path so that path holds either nothing or
// all of data, even across a crash: temp file, fsync, rename, fsync of the
// folder.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := writeFileSynced(path, data, perm); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeFileSynced is WriteFileAtomic without the fsync of the folder: the
// data is on disk, the new name not yet.
func writeFileSynced(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create inbox: %w", err)
	}
	tmp, err := writeTemp(path, data, perm, true)
	if err != nil {
		return err
	}
	return tmp.name(path)
}

// staged is a file written but not yet given its name.
type staged interface {
	// name gives the file its name, replacing what had it.
	name(path string) error
	// discard removes the file; it is not called once name succeeded.
	discard()
}

// tempFile is a staged file under a temporary name.
type tempFile string

func (t tempFile) name(path string) error {
	if err := os.Rename(string(t), path); err != nil {
		os.Remove(string(t))
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func (t tempFile) discard() { os.Remove(string(t)) }

// writeTemp writes data to a new temporary file in path's folder, which
// must exist, fsynced if sync is set; on error it leaves nothing.
func writeTemp(path string, data []byte, perm os.FileMode, sync bool) (tmp tempFile, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return "", fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	if err := f.Chmod(perm); err != nil {
		return "", fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return "", fmt.Errorf("failed to sync %s: %w", filepath.Base(path), err)
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return tempFile(f.Name()), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to sync inbox: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("failed to sync inbox: %w", err)
	}
	return nil
}

// groupSync shares a flush among the writers that need one at the same
// time: a caller waits for a flush that started after it called, and one
// flush serves everyone who was waiting when it started.
type groupSync struct {
	do func() error // the flush

	mu        sync.Mutex
	cond      *sync.Cond
	running   bool
	started   uint64 // generations: the last flush started
	completed uint64 // and the last one finished
	err       error  // the last finished flush's error
	next      int    // callers since the last flush started, whom the next serves
	// gate, if set, is called with mu held just before a flush starts,
	// for tests; it may wait on cond, which sync then signals whenever a
	// caller comes in.
	gate func()
}

// sync returns once a flush that started after the call has finished,
// with its error.
func (s *groupSync) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cond == nil {
		s.cond = sync.NewCond(&s.mu)
	}
	s.next++
	if s.gate != nil {
		s.cond.Broadcast()
	}
	want := s.started + 1
	for s.completed < want {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		if s.gate != nil {
			s.gate()
		}
		s.started++
		s.next = 0
		gen := s.started
		s.mu.Unlock()
		err := s.do()
		s.mu.Lock()
		s.running, s.completed, s.err = false, gen, err
		s.cond.Broadcast()
	}
	return s.err
}

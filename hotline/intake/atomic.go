package intake

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

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
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create inbox: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("failed to sync %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return nil
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

// dirSyncer shares fsyncs of one folder among the writers that need one
// at the same time: a caller waits for an fsync that started after it
// called, and one fsync serves everyone who was waiting when it started.
type dirSyncer struct {
	mu        sync.Mutex
	cond      *sync.Cond
	running   bool
	started   uint64 // generations: the last fsync started
	completed uint64 // and the last one finished
	err       error  // the last finished fsync's error
}

// sync returns once an fsync of dir that started after the call has
// finished, with its error.
func (s *dirSyncer) sync(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cond == nil {
		s.cond = sync.NewCond(&s.mu)
	}
	want := s.started + 1
	for s.completed < want {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		gen := s.started
		s.mu.Unlock()
		err := syncDir(dir)
		s.mu.Lock()
		s.running, s.completed, s.err = false, gen, err
		s.cond.Broadcast()
	}
	return s.err
}

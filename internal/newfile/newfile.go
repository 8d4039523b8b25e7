// Package newfile writes the files the commands make once and never
// overwrite (keys, configurations, key statements), and says what to do
// when one cannot be made.
package newfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Error is a file that could not be created, with a line of advice for
// the person at the terminal.
type Error struct {
	Err    error
	Advice string
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Hint returns the advice.
func (e *Error) Hint() string { return e.Advice }

// Write writes body to a new file at path with mode, and syncs it; the
// file must not exist yet. what names the file in errors ("key file");
// never says why an existing one is kept ("keygen never overwrites a
// key"). A file it could not write whole is removed. A file it could not
// create is an *Error whose advice says why, where to look, or what to do.
func Write(path, what, never string, mode os.FileMode, body string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return &Error{fmt.Errorf("failed to create %s: %w", what, err), Advice(path, err, never)}
	}
	_, err = io.WriteString(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("failed to write %s: %w", what, err)
	}
	return nil
}

// Advice says what to do when a new file at path could not be created
// (err): why, for a file that exists (never, which says why not), and
// where to look for a folder that is missing or not writable.
func Advice(path string, err error, never string) string {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return never + ": choose a new file name"
	case errors.Is(err, fs.ErrNotExist):
		return "the folder " + dir + " does not exist: make it first (mkdir -p " + dir + "), or choose another path"
	case errors.Is(err, fs.ErrPermission):
		return "this user cannot write in " + dir + ": choose a folder it can write to"
	}
	return "choose another path"
}

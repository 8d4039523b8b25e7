//go:build !linux

package intake

import (
	"errors"
	"os"
)

// unnamedFiles reports whether files can be written without a name and
// linked later: only on Linux.
func unnamedFiles(string) bool { return false }

// writeUnnamed is not used where unnamedFiles is false.
func writeUnnamed(string, []byte, os.FileMode) (staged, error) { return nil, errors.ErrUnsupported }

// groupedFlush reports whether one flush of the whole filesystem can make
// the intake's files durable: only on Linux.
func groupedFlush() bool { return false }

// syncFS is not used where groupedFlush is false.
func syncFS(*os.File) error { return errors.ErrUnsupported }

//go:build !linux

package intake

import (
	"errors"
	"os"
)

// groupedFlush reports whether one flush of the whole filesystem can make
// the intake's files durable: only on Linux.
func groupedFlush() bool { return false }

// syncFS is not used where groupedFlush is false.
func syncFS(*os.File) error { return errors.ErrUnsupported }

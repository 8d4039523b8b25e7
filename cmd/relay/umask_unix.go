//go:build unix

package main

import "syscall"

// umask sets the process's file mode mask and returns the old one, so the
// admin socket is never, even for an instant, open to other users.
func umask(mask int) int { return syscall.Umask(mask) }

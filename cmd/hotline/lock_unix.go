//go:build unix

package main

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// lockInbox takes the inbox for this intake alone: a second intake on the
// same folder (started twice by mistake, or beside a service) is refused
// before it touches anything. The lock is the kernel's, and goes with the
// process, so a killed intake leaves none behind; it is taken on the
// folder itself, so the inbox holds no file but reports.
func lockInbox(dir string) (io.Closer, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errInboxInUse
		}
		return nil, err
	}
	return f, nil
}

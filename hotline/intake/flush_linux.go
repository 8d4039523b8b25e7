//go:build linux

package intake

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// groupedFlush reports whether syncfs reports write-back errors, as it
// does since Linux 5.8; before, it returned success whatever happened.
func groupedFlush() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	major, rest, _ := strings.Cut(unix.ByteSliceToString(u.Release[:]), ".")
	minor, _, _ := strings.Cut(rest, ".")
	ma, err1 := strconv.Atoi(major)
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i] // "8-rc1"
	}
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > 5 || ma == 5 && mi >= 8
}

// syncFS flushes the filesystem that holds f.
func syncFS(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	return serr
}

// unnamedFile is a staged file without a name (O_TMPFILE): if the process
// stops before it is named, nothing is left of it, and naming it is one
// link instead of a temporary name, then a rename. It is a bare
// descriptor: an *os.File would ask the kernel for the descriptor's flags
// when made, one system call per file more.
type unnamedFile struct{ fd int }

// unnamedFiles reports whether dir takes unnamed files that can then be
// linked: the filesystem must support O_TMPFILE, and /proc be mounted
// (linking by the file's descriptor without CAP_DAC_READ_SEARCH goes
// through /proc/self/fd).
func unnamedFiles(dir string) bool {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return false
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// writeUnnamed writes data to a new unnamed file in path's folder.
func writeUnnamed(path string, data []byte, perm os.FileMode) (staged, error) {
	fd, err := unix.Open(filepath.Dir(path), unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	if err := writeAll(fd, data); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return unnamedFile{fd}, nil
}

// writeAll writes all of data to fd, again after a short write or an
// interrupted one, as os.File's Write does.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		data = data[n:]
	}
	return nil
}

func (u unnamedFile) name(path string) error {
	defer unix.Close(u.fd)
	proc := "/proc/self/fd/" + strconv.Itoa(u.fd)
	err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	if errors.Is(err, unix.EEXIST) {
		// What has the name is what a store cut short left (a report is
		// stored only once both of its files exist): replaced.
		if err = os.Remove(path); err == nil {
			err = unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
		}
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func (u unnamedFile) discard() { unix.Close(u.fd) }

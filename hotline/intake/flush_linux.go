//go:build linux

package intake

import (
	"os"
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

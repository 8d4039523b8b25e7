// Package testbin builds the command under test once per test binary, so
// that its tests run it as an operator would: as a process.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
	path string
	err  error
)

// Build builds the package in the current directory, the command being
// tested, into a temporary folder the first time it is called, and
// returns the binary's path; it fails t if the build fails.
func Build(t testing.TB, name string) string {
	t.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", name+"-bin-"); err != nil {
			return
		}
		path = filepath.Join(dir, name)
		if out, e := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); e != nil {
			err = fmt.Errorf("go build: %v\n%s", e, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Main runs the tests and then removes what Build made: call it as the
// package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// Package testbin builds the command under test once per test binary, so
// that its tests run it as an operator would: as a process.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]string{} // package folder → binary
)

// Build builds the package in the current directory, the command being
// tested, into a temporary folder the first time it is called, and
// returns the binary's path; it fails t if the build fails.
func Build(t testing.TB, name string) string {
	t.Helper()
	return BuildPackage(t, name, ".")
}

// BuildPackage builds the command in the folder pkg (relative to the
// current directory, "../hotline") as name, once per test binary, for a
// test that runs another command beside the one under test.
func BuildPackage(t testing.TB, name, pkg string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	p := filepath.Join(next(t), name)
	if out, err := exec.Command("go", "build", "-o", p, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	built[pkg] = p
	return p
}

// BuildAll builds the commands in the folders pkgs side by side into one
// folder, once per test binary, and returns that folder, for a test that
// runs commands that find each other there, as make build leaves them.
func BuildAll(t testing.TB, pkgs ...string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "side by side: " + strings.Join(pkgs, " ") // apart from BuildPackage's keys
	if p, ok := built[key]; ok {
		return p
	}
	p := next(t)
	args := append([]string{"build", "-o", p + string(filepath.Separator)}, pkgs...)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	built[key] = p
	return p
}

// next returns the path, in the folder Main removes, for the next build;
// call it with mu held.
func next(t testing.TB) string {
	t.Helper()
	if dir == "" {
		d, err := os.MkdirTemp("", "testbin-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	return filepath.Join(dir, fmt.Sprint(len(built)))
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

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyCopy: a copy of a module as the module cache holds it has the
// hash go.sum names; a copy with one file changed, added or removed does
// not, and is refused with an error naming the module.
func TestVerifyCopy(t *testing.T) {
	root := chdirRoot(t)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	found, err := download([]string{"filippo.io/age"})
	if err != nil {
		t.Fatal(err)
	}
	m := found["filippo.io/age"]
	fresh := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "age")
		if err := copyTree(m.Dir, dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if err := verifyCopy(fresh(t), m.Path, m.Version, sum); err != nil {
		t.Fatalf("the module as downloaded: %v", err)
	}
	for name, spoil := range map[string]func(dir string) error{
		"a byte changed": func(dir string) error {
			p := filepath.Join(dir, "age.go")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o644)
		},
		"a file added": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "extra.go"), []byte("package age\n"), 0o644)
		},
		"a file removed": func(dir string) error { return os.Remove(filepath.Join(dir, "scrypt.go")) },
	} {
		dir := fresh(t)
		if err := spoil(dir); err != nil {
			t.Fatal(err)
		}
		err := verifyCopy(dir, m.Path, m.Version, sum)
		if err == nil || !strings.Contains(err.Error(), "filippo.io/age@"+m.Version) || !strings.Contains(err.Error(), "go.sum") {
			t.Errorf("%s: %v; want it refused naming the module and go.sum", name, err)
		}
	}
	if err := verifyCopy(fresh(t), m.Path, "v0.0.1", sum); err == nil || !strings.Contains(err.Error(), "no hash") {
		t.Errorf("a version go.sum does not list: %v", err)
	}
}

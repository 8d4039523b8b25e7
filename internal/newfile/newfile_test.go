package newfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := Write(path, "key file", "keys are never overwritten", 0o600, "secret\n"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	st, _ := os.Stat(path)
	if err != nil || string(b) != "secret\n" || st.Mode().Perm() != 0o600 {
		t.Fatalf("written %q, mode %v, %v", b, st.Mode().Perm(), err)
	}

	for _, tt := range []struct {
		name, path string
		is         error
		advice     string
	}{
		{"existing", path, fs.ErrExist, "keys are never overwritten: choose a new file name"},
		{"no folder", filepath.Join(dir, "none", "key"), fs.ErrNotExist, "mkdir -p " + filepath.Join(dir, "none")},
	} {
		err := Write(tt.path, "key file", "keys are never overwritten", 0o600, "other\n")
		var e *Error
		advice := ""
		if errors.As(err, &e) {
			advice = e.Hint()
		}
		if !errors.Is(err, tt.is) || !strings.Contains(advice, tt.advice) || !strings.HasPrefix(err.Error(), "failed to create key file: ") {
			t.Errorf("%s: %v (advice %q); want %v with advice %q", tt.name, err, advice, tt.is, tt.advice)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "secret\n" {
		t.Errorf("the existing file now holds %q", b)
	}
}

func TestAdvicePermission(t *testing.T) {
	got := Advice("/var/lib/x/key", fs.ErrPermission, "never")
	if want := "this user cannot write in /var/lib/x"; !strings.HasPrefix(got, want) {
		t.Errorf("Advice = %q, want it to start %q", got, want)
	}
	if got := Advice("key", errors.New("disk on fire"), "never"); got != "choose another path" {
		t.Errorf("Advice for another error = %q", got)
	}
}

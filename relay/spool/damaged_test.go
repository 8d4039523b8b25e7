package spool

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenDamaged: a file that is not a spool, or whose header pages fail
// their checks, is refused with ErrDamaged, not taken for a spool; a file
// a relay was killed while creating (empty) is a new spool.
func TestOpenDamaged(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("this is not a bbolt file, but it is long enough to hold a header page or two..............................................................."), 0o600)
	if _, err := Open(junk); !errors.Is(err, ErrDamaged) {
		t.Errorf("Open of a file that is not a spool = %v, want ErrDamaged", err)
	}

	good := filepath.Join(dir, "spool.db")
	s, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, _ := os.ReadFile(good)
	for i := 16; i < 64; i++ { // inside both meta pages' fields, under their checksums
		b[i] ^= 0xff
		b[os.Getpagesize()+i] ^= 0xff
	}
	damaged := filepath.Join(dir, "damaged.db")
	os.WriteFile(damaged, b, 0o600)
	if _, err := Open(damaged); !errors.Is(err, ErrDamaged) {
		t.Errorf("Open of a spool whose header pages are damaged = %v, want ErrDamaged", err)
	}

	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	s, err = Open(empty)
	if err != nil {
		t.Fatalf("Open of an empty file = %v, want a new spool", err)
	}
	s.Close()
}

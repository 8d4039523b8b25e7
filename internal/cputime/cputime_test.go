package cputime

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

func TestUsedGrowsWithWork(t *testing.T) {
	before := Used()
	if before <= 0 {
		t.Fatalf("Used() = %v before any work", before)
	}
	b := make([]byte, 1<<20)
	for i := 0; i < 10_000 && Used()-before < 5e6; i++ {
		sha256.Sum256(b)
	}
	if got := Used() - before; got < 5e6 {
		t.Errorf("10,000 hashes of 1 MiB took %v of CPU, want at least 5ms", got)
	}
}

func TestWrittenCountsASyncedFile(t *testing.T) {
	before := Written()
	if before < 0 {
		t.Skip("this system does not report the bytes a process writes to storage")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := Written() - before; got < 1<<20 {
		t.Errorf("after writing and syncing 1 MiB, Written grew by %d bytes, want at least %d", got, 1<<20)
	}
}

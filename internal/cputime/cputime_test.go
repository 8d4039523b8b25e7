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

// TestUsedByAgreesWithUsed: another process's CPU time, read the way
// benchmarks read the relay's and the intake's, is this process's own
// when given its id, to the clock tick.
func TestUsedByAgreesWithUsed(t *testing.T) {
	by := UsedBy(os.Getpid())
	if by < 0 {
		t.Skip("this system has no /proc/PID/stat")
	}
	b := make([]byte, 1<<20)
	for i := 0; i < 10_000 && UsedBy(os.Getpid())-by < 50e6; i++ {
		sha256.Sum256(b)
	}
	after, own := UsedBy(os.Getpid()), Used()
	if after-by < 50e6 {
		t.Errorf("10,000 hashes of 1 MiB took %v of CPU by /proc/PID/stat, want at least 50ms", after-by)
	}
	if d := own - after; d < 0 || d > 50e6 {
		t.Errorf("Used() = %v, UsedBy(own id) = %v just before: more than 50ms apart", own, after)
	}
	if got := WrittenBy(os.Getpid()); got < 0 && Written() >= 0 {
		t.Errorf("WrittenBy(own id) = %d, Written() = %d", got, Written())
	}
}

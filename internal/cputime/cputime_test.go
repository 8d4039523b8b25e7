package cputime

import (
	"crypto/sha256"
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

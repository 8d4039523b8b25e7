package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestIntakeGC: `hotline intake` collects garbage less often than Go's
// default, unless GOGC says otherwise.
func TestIntakeGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != intakeGCPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, intakeGCPercent)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "100"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: GC percent %d, want it left at 100", got)
	}
}

// TestIntakeMemoryLimit: `hotline intake` sets a soft memory limit, unless
// GOMEMLIMIT says otherwise. With GOGC at 400 alone, the garbage of a flood
// of large bodies without a key (64 at a time, 4 MB each, all refused)
// took the intake to 1 GB; the limit makes the collector keep the heap
// under it instead.
func TestIntakeMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)

	tuneGC(func(string) string { return "" })
	if got := debug.SetMemoryLimit(math.MaxInt64); got != intakeMemoryLimit {
		t.Errorf("without GOMEMLIMIT: memory limit %d, want %d", got, intakeMemoryLimit)
	}
	tuneGC(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	})
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d, want it left as the environment set it", got)
	}
}

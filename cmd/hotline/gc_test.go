package main

import (
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

package main

import "runtime/debug"

// intakeGCPercent is the intake's GOGC. The intake keeps little memory
// live but allocates much for each report (a batch's body, each report's
// opening), so with Go's default of 100 it collects garbage many times a
// second: in a drain of 10,000 reports by processes, 400 took its CPU per
// report from 648–676 µs to 509–523 µs and the drain from 1,584–1,683/s
// to 1,900–1,954/s, for a peak of 33–36 MB of memory instead of 11–14 MB
// (docs/benchmarks.md, "The intake's garbage collection").
const intakeGCPercent = 400

// tuneGC sets the intake's GOGC, unless the GOGC environment variable,
// read with getenv, sets it.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(intakeGCPercent)
	}
}

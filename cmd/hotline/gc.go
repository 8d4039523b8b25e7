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

// intakeMemoryLimit is the intake's soft memory limit (GOMEMLIMIT). With
// GOGC at 400 the heap may grow to five times what is live before a
// collection: little in a drain, but a sender without a key can make much
// live (64 bodies of about 4 MiB each read at once, and a copy of each
// while its signature is checked), and with their garbage a flood of them,
// all refused, took the intake past 1 GB. Near the limit the collector
// runs as often as it must to stay under it; what is live is bounded by
// the intake's limits (docs/deployment.md), not by this.
const intakeMemoryLimit = 512 << 20

// tuneGC sets the intake's GOGC and soft memory limit, unless the GOGC
// and GOMEMLIMIT environment variables, read with getenv, set them.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(intakeGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(intakeMemoryLimit)
	}
}

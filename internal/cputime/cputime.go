// Package cputime reads the CPU time the process has used, user and
// system, and what it has written to storage, so that benchmarks on a
// shared machine can report work per operation, which does not depend on
// how much of the machine they got.
package cputime

import "time"

// Used returns the CPU time used by the process so far, or zero where it
// cannot be read.
func Used() time.Duration { return used() }

package main

import (
	"testing"

	"github.com/reportline/reportline/internal/deptest"
)

// TestDeps: the relay links none of the hotline's packages.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Module+"/cmd/relay", "", "", deptest.HotlinePackages)
}

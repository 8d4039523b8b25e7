package main

import (
	"testing"

	"github.com/reportline/reportline/internal/deptest"
)

// TestDeps: the relay links none of the hotline's packages, and of NATS
// only the client: the servers are run apart from it (docs/scaling.md).
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Module+"/cmd/relay", "", "", deptest.HotlinePackages, deptest.NATSServer)
}

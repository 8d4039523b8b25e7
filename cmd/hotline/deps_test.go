package main

import (
	"testing"

	"github.com/reportline/reportline/internal/deptest"
)

// TestDeps: the hotline's tool, which holds the private key, links nothing
// of the relay: none of its packages, no bbolt, Prometheus, TOML or NATS.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Module+"/cmd/hotline", "", "",
		deptest.RelayPackages, deptest.Bolt, deptest.Prometheus, deptest.TOML, deptest.NATS)
}

package deptest

import (
	"slices"
	"testing"
)

// TestFindNamesTheChain: a package that imports a forbidden one is found,
// with the shortest chain of real imports leading to it.
func TestFindNamesTheChain(t *testing.T) {
	forward := Module + "/relay/forward"
	vs, err := Find(forward, "", "", Bolt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{forward, Module + "/relay/spool", Bolt}
	if len(vs) != 1 || !slices.Equal(vs[0].Chain, want) || vs[0].Forbidden != Bolt {
		t.Fatalf("Find = %v, want one violation through %v", vs, want)
	}
	// Each link of the chain is an import the package really makes.
	graph, err := imports(forward, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(want); i++ {
		if !slices.Contains(graph[want[i-1]], want[i]) {
			t.Errorf("%s does not import %s", want[i-1], want[i])
		}
	}
}

// TestFindMatchesWholePathElements: a rule forbids a path and what is
// below it, not every path that starts with the same letters.
func TestFindMatchesWholePathElements(t *testing.T) {
	vs, err := Find(Module+"/relay/forward", "", "", "go.etcd.io/bb", Module+"/relay/spo")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Errorf("a partial path element matched: %v", vs)
	}
	vs, err = Find(Module+"/relay/forward", "", "", "go.etcd.io")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Error("go.etcd.io does not forbid go.etcd.io/bbolt")
	}
}

// TestFindRefusesAnUnknownPackage: a rule about a package that does not
// exist must not pass silently.
func TestFindRefusesAnUnknownPackage(t *testing.T) {
	if _, err := Find(Module+"/no/such/package", "", "", Bolt); err == nil {
		t.Error("Find of a package that does not exist did not fail")
	}
}

// TestModuleDeps: the browser's module links nothing of a server: no
// relay or hotline package, no command, and none of the relay's
// dependencies.
func TestModuleDeps(t *testing.T) {
	Check(t, Module+"/wasm", "js", "wasm", RelayPackages, HotlinePackages, Commands, Bolt, Prometheus, TOML, NATS)
}

// TestContractDeps: the contracts every party imports (the report format,
// the key statement, deliveries, the proof of work) depend on no
// operator's software.
func TestContractDeps(t *testing.T) {
	for _, pkg := range []string{"report", "statement", "followup", "delivery", "pow"} {
		for _, goos := range []string{"", "js"} {
			goarch := ""
			if goos == "js" {
				goarch = "wasm"
			}
			Check(t, Module+"/"+pkg, goos, goarch, RelayPackages, HotlinePackages, Commands, Bolt, Prometheus, TOML, NATS)
		}
	}
}

// TestWebDeps: the frame's page and the files browsers load are rendered
// by the relay and published by the hotline's tool, so they link neither
// side's software: the hotline's tool gets the frame without the relay.
func TestWebDeps(t *testing.T) {
	for _, pkg := range []string{"web/frame", "web/assets"} {
		Check(t, Module+"/"+pkg, "", "", RelayPackages, HotlinePackages, Commands, Bolt, Prometheus, TOML, NATS)
	}
}

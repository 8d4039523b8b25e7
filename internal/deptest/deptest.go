// Package deptest keeps the product's trust domains apart in what each
// program links: a test names the packages a program must not import, and
// fails with the chain of imports that brings one in.
//
// It reads the import graph from `go list -deps`, as the program is built
// (test files are not part of it).
package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Violation is a forbidden package a program imports, and the shortest
// chain of imports from the program to it.
type Violation struct {
	// Forbidden is the rule the package broke (a path or path prefix).
	Forbidden string
	// Chain runs from the program's package to the forbidden one.
	Chain []string
}

func (v Violation) String() string {
	return fmt.Sprintf("imports %s (forbidden: %s) through %s", v.Chain[len(v.Chain)-1], v.Forbidden, strings.Join(v.Chain, " → "))
}

// Find reports, for each of forbidden that pkg imports directly or not,
// the nearest package under it and the chain of imports to it, when built for goos and goarch (empty for the host's). A
// forbidden entry matches a package path and every path below it, so
// "go.etcd.io/bbolt" also forbids "go.etcd.io/bbolt/errors".
func Find(pkg, goos, goarch string, forbidden ...string) ([]Violation, error) {
	graph, err := imports(pkg, goos, goarch)
	if err != nil {
		return nil, err
	}
	// Breadth first, in sorted order, so that each chain is a shortest one
	// and the same from run to run.
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	var out []Violation
	reported := make(map[string]bool)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if f, ok := matches(p, forbidden); ok {
			if reported[f] {
				continue
			}
			reported[f] = true
			var chain []string
			for q := p; q != ""; q = prev[q] {
				chain = append(chain, q)
			}
			slices.Reverse(chain)
			out = append(out, Violation{Forbidden: f, Chain: chain})
			continue
		}
		for _, q := range graph[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return out, nil
}

// Check fails t for every package under forbidden that pkg imports, with
// the chain that brings it in. goos and goarch are empty for the host.
func Check(t testing.TB, pkg, goos, goarch string, forbidden ...string) {
	t.Helper()
	vs, err := Find(pkg, goos, goarch, forbidden...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("%s %s", pkg, v)
	}
}

func matches(p string, forbidden []string) (string, bool) {
	for _, f := range forbidden {
		if p == f || strings.HasPrefix(p, f+"/") {
			return f, true
		}
	}
	return "", false
}

// imports returns, for pkg and every package it depends on, the packages
// it imports, sorted.
func imports(pkg, goos, goarch string) (map[string][]string, error) {
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Error", pkg)
	cmd.Env = os.Environ()
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos)
	}
	if goarch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+goarch)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w\n%s", pkg, err, stderr.Bytes())
	}
	graph := make(map[string][]string)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -deps %s: %w", pkg, err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list -deps %s: %s: %s", pkg, p.ImportPath, p.Error.Err)
		}
		slices.Sort(p.Imports)
		graph[p.ImportPath] = p.Imports
	}
	if _, ok := graph[pkg]; !ok {
		return nil, fmt.Errorf("go list -deps %s: the package is not in its own list", pkg)
	}
	return graph, nil
}

// Module is the import path of this module, to write rules with.
const Module = "github.com/reportline/reportline"

// Relay's, the hotline's and the commands' packages, and the relay's
// heavy dependencies: what the rules forbid.
const (
	RelayPackages   = Module + "/relay"
	HotlinePackages = Module + "/hotline"
	Commands        = Module + "/cmd"
	Bolt            = "go.etcd.io/bbolt"
	Prometheus      = "github.com/prometheus"
	TOML            = "github.com/BurntSushi/toml"
	// NATS is the JetStream client and server; NATSServer the server
	// alone, which runs in tests and never inside a program.
	NATS       = "github.com/nats-io"
	NATSServer = "github.com/nats-io/nats-server"
)

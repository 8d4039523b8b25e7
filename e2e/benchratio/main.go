// Command benchratio reads `go test -bench` output on standard input,
// passes it through, and then prints each benchmark's time as a ratio to
// its package's baseline measured in the same run: the benchmark named in
// -baseline for that package (BenchmarkAccept for the relay: what a
// well-formed report costs), else the package's first benchmark. Shared
// machines make absolute times noisy; ratios within one run are steadier.
//
//	go test -run='^$' -bench=. ./... | go run ./e2e/benchratio
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type result struct {
	name string
	ns   float64
}

func main() {
	baselines := flag.String("baseline", "reportline/relay=BenchmarkAccept,reportline/pow=BenchmarkVerify",
		"package suffix=benchmark pairs naming each package's baseline")
	flag.Parse()
	base := map[string]string{}
	for _, kv := range strings.Split(*baselines, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			base[k] = v
		}
	}
	var pkgs []string
	results := map[string][]result{}
	var pending []result
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		fmt.Println(line)
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark") && f[3] == "ns/op":
			ns, err := strconv.ParseFloat(f[2], 64)
			if err == nil {
				name := f[0]
				if i := strings.LastIndex(name, "-"); i > 0 {
					name = name[:i] // the GOMAXPROCS suffix
				}
				pending = append(pending, result{name, ns})
			}
		case len(f) >= 2 && (f[0] == "ok" || f[0] == "FAIL") && len(pending) > 0:
			pkgs = append(pkgs, f[1])
			results[f[1]] = pending
			pending = nil
		}
	}
	if len(pkgs) == 0 {
		fmt.Fprintln(os.Stderr, "benchratio: no benchmark results on standard input")
		os.Exit(1)
	}
	fmt.Println("\nRatios to each package's baseline, same run:")
	for _, pkg := range pkgs {
		rs := results[pkg]
		b := rs[0]
		for suffix, name := range base {
			if strings.HasSuffix(pkg, suffix) {
				for _, r := range rs {
					if r.name == name {
						b = r
					}
				}
			}
		}
		fmt.Printf("%s (baseline %s, %.0f ns/op)\n", pkg, b.name, b.ns)
		for _, r := range rs {
			fmt.Printf("  %-40s %10.0f ns/op  %8.3f×\n", r.name, r.ns, r.ns/b.ns)
		}
	}
}

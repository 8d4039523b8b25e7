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
	"runtime"
	"strconv"
	"strings"
)

type result struct {
	name string
	ns   float64
}

// metrics holds each benchmark's reported values by unit ("accepts/s"),
// for the summary of the relay's load benchmarks.
var metrics = map[string]map[string]float64{}

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
				m := map[string]float64{}
				for i := 4; i+1 < len(f); i += 2 {
					if v, err := strconv.ParseFloat(f[i], 64); err == nil {
						m[f[i+1]] = v
					}
				}
				metrics[name] = m
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
	keepingUp()
}

// keepingUp prints the relay's load benchmarks against their goals, each
// as a ratio to a baseline measured in the same run: durable accepts
// against a no-op handler (BenchmarkAcceptLoad), and draining a backlog
// into the real intake against a no-op intake and against the accept
// rate (BenchmarkDrain).
func keepingUp() {
	acc, drain, noop := metrics["BenchmarkAcceptLoad"], metrics["BenchmarkDrain/intake"], metrics["BenchmarkDrain/noop"]
	intake := metrics["BenchmarkIntake"]
	if acc == nil && drain == nil && intake == nil && metrics["BenchmarkAcceptLoadJetStream"] == nil && metrics["BenchmarkAcceptLoadUnstored"] == nil &&
		metrics["BenchmarkDrainProcesses"] == nil && metrics["BenchmarkAcceptLoadProcess"] == nil {
		return
	}
	fmt.Println("\nThe relay keeping up, same run:")
	if acc != nil {
		fmt.Printf("  durable accepts, 32 connections  %8.0f/s  %6.2f× a no-op handler (goal ≥ 0.5×)\n", acc["accepts/s"], acc["x-noop-rate"])
		fmt.Printf("  accept latency                   p50 %6.2f× the no-op's, p99 %6.2f× (%.1f ms; goal < 20 ms)\n",
			acc["p50-x-noop"], acc["p99-x-noop"], acc["p99-ms"])
		if cpu := acc["cpu-µs/accept"]; cpu > 0 {
			fmt.Printf("  CPU per accept                   %8.0f µs, client included; %.0f µs per no-op request\n", cpu, acc["cpu-µs/noop-req"])
		}
		if kb := acc["disk-KB/accept"]; kb > 0 {
			fmt.Printf("  written to disk per accept       %8.1f KB\n", kb)
		}
	}
	if u := metrics["BenchmarkAcceptLoadUnstored"]; u != nil {
		fmt.Printf("  accepts with nothing stored      %8.0f/s  %6.2f× a no-op handler, %.0f µs CPU per accept: the ceiling any store leaves\n",
			u["accepts/s"], u["x-noop-rate"], u["cpu-µs/accept"])
	}
	if p := metrics["BenchmarkAcceptLoadProcess"]; p != nil {
		fmt.Printf("  durable accepts, relay a process %8.0f/s  %6.2f× a no-op handler, p99 %.1f ms; the relay's CPU %.0f µs per accept, peak memory %.1f MB\n",
			p["accepts/s"], p["x-noop-rate"], p["p99-ms"], p["relay-cpu-µs/accept"], p["relay-peak-anon-MB"])
	}
	if js := metrics["BenchmarkAcceptLoadJetStream"]; js != nil {
		fmt.Println("\nThe two stores side by side, same run (each against its own no-op run):")
		fmt.Printf("  %-28s %10s %12s %12s %12s %10s\n", "store", "accepts/s", "× no-op rate", "p50 × no-op", "p99 × no-op", "p99 ms")
		for _, r := range []struct {
			name string
			m    map[string]float64
		}{{"bbolt spool (fsync)", acc}, {"JetStream R3, sync always", js}} {
			if r.m != nil {
				fmt.Printf("  %-28s %10.0f %12.3f %12.2f %12.2f %10.1f\n", r.name, r.m["accepts/s"], r.m["x-noop-rate"],
					r.m["p50-x-noop"], r.m["p99-x-noop"], r.m["p99-ms"])
			}
		}
	}
	if drain != nil {
		fmt.Printf("  drain into the real intake       %8.0f/s (goal ≥ 2,000/s)", drain["deliveries/s"])
		if noop != nil {
			fmt.Printf("  %6.2f× into a no-op intake (%.0f/s)", drain["deliveries/s"]/noop["deliveries/s"], noop["deliveries/s"])
		}
		fmt.Println()
		if acc != nil {
			fmt.Printf("  delivery against acceptance      %8.2f× (goal > 1×: no load grows the spool for ever)\n", drain["deliveries/s"]/acc["accepts/s"])
		}
		if cpu := drain["cpu-µs/delivery"]; cpu > 0 {
			fmt.Printf("  CPU per delivery                 %8.0f µs, relay and intake together: %.0f/s if the run had all %d CPUs (it used %.2f)\n",
				cpu, float64(runtime.NumCPU())*1e6/cpu, runtime.NumCPU(), cpu*drain["deliveries/s"]/1e6)
		}
		if busy, ok := drain["flush-busy"]; ok {
			fmt.Printf("  the intake's disk flushes        %8.0f %% of the drain, %.2f flushes per delivery (near 100 %%, the disk holds the drain)\n",
				busy*100, drain["flushes/delivery"])
		}
		if kb := drain["disk-KB/delivery"]; kb > 0 {
			fmt.Printf("  written to disk per delivery     %8.1f KB, relay and intake together", kb)
			if noop != nil {
				fmt.Printf(" (%.1f KB with a no-op intake)", noop["disk-KB/delivery"])
			}
			fmt.Printf(": %.0f MB/s at the measured rate\n", kb*drain["deliveries/s"]/1024)
		}
		if h := metrics["BenchmarkDrain/intake-hmac"]; h != nil && h["cpu-µs/delivery"] > 0 {
			fmt.Printf("  the same, signed with HMAC       %8.0f/s, %.0f µs CPU per delivery: %.0f/s if the run had all %d CPUs\n",
				h["deliveries/s"], h["cpu-µs/delivery"], float64(runtime.NumCPU())*1e6/h["cpu-µs/delivery"], runtime.NumCPU())
		}
		if s := metrics["BenchmarkDrain/intake-single"]; s != nil && s["deliveries/s"] > 0 && s["cpu-µs/delivery"] > 0 {
			fmt.Printf("  the same, sent singly            %8.0f/s, %.0f µs CPU per delivery: batches %.2f× the rate, %.2f× the CPU\n",
				s["deliveries/s"], s["cpu-µs/delivery"], drain["deliveries/s"]/s["deliveries/s"], drain["cpu-µs/delivery"]/s["cpu-µs/delivery"])
		}
		if noop != nil {
			fmt.Printf("  anonymous memory while draining  %8.1f MB peak, the relay alone (goal ≤ 64 MB); %.1f MB with the intake in the same process\n",
				noop["peak-anon-MB"], drain["peak-anon-MB"])
		} else {
			fmt.Printf("  anonymous memory while draining  %8.1f MB peak, relay and intake in one process (goal ≤ 64 MB for the relay)\n", drain["peak-anon-MB"])
		}
	}
	if p := metrics["BenchmarkDrainProcesses"]; p != nil {
		fmt.Printf("  drain, relay and intake processes %7.0f/s (goal ≥ 2,000/s), %.0f µs CPU per delivery: relay %.0f, intake %.0f\n",
			p["deliveries/s"], p["cpu-µs/delivery"], p["relay-cpu-µs/delivery"], p["intake-cpu-µs/delivery"])
		fmt.Printf("  the same, peak anonymous memory   %7.1f MB the relay (goal ≤ 64 MB), %.1f MB the intake\n",
			p["relay-peak-anon-MB"], p["intake-peak-anon-MB"])
	}
	if cpu := intake["cpu-µs/report"]; cpu > 0 {
		fmt.Printf("  the intake alone                 %8.0f µs CPU per report: %.0f/s if it had all %d CPUs (measured %.0f/s)\n",
			cpu, float64(runtime.NumCPU())*1e6/cpu, runtime.NumCPU(), intake["reports/s"])
		if b := metrics["BenchmarkIntakeBatch"]; b != nil && b["reports/s"] > 0 && intake["reports/s"] > 0 {
			fmt.Printf("  the intake alone, batches of 32  %8.0f µs CPU per report, %.0f/s: %.2f× the singles' rate\n",
				b["cpu-µs/report"], b["reports/s"], b["reports/s"]/intake["reports/s"])
		}
		if kb := intake["disk-KB/report"]; kb > 0 {
			fmt.Printf("  the intake alone, disk           %8.1f KB written per report: %.0f MB/s at the measured rate\n", kb, kb*intake["reports/s"]/1024)
		}
	}
}

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/cputime"
	"github.com/reportline/reportline/internal/loadtest"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
)

// acceptBenchLimits lets every benchmark request through the relay's
// limits, as BenchmarkAcceptLoad's settings do: all 32 connections come
// from one address, and the proofs, solved before the clock starts, are
// the cheapest the relay takes, at a difficulty that stays put.
const acceptBenchLimits = `[relay.pow]
difficulty = 64
max_difficulty = 64
cost = 1
v1_difficulty = 64
[relay.limits]
challenges_per_minute = 1e12
challenge_burst = 1000000000
reports_per_minute = 1e12
report_burst = 1000000000
total_reports_per_minute = 1e12
max_concurrent_reports = 1000
max_concurrent_reports_per_client = 1000`

// BenchmarkAcceptLoadProcess is BenchmarkAcceptLoad (relay) against the
// built relay as a process of its own, as its command assembles it: b.N
// reports of ordinary size, each with a proof of work solved beforehand
// from the relay's own challenges, posted over 32 connections kept busy,
// each answered 202 only once it is on disk. The baseline is a no-op
// net/http handler taking the same bodies from the same client in the
// same run (in the benchmark's process). Reported as BenchmarkAcceptLoad
// reports it (goal ≥ 0.5× the no-op's rate, p99 < 20 ms), with the relay
// process's own CPU time and disk writes per accept and its peak
// anonymous memory.
func BenchmarkAcceptLoadProcess(b *testing.B) {
	bin := testbin.Build(b, "relay")
	s := newSetup(b)
	// The relay delivers what it accepts: here to an intake that takes
	// the connection and never answers, with one delivery at a time, so
	// that, as in BenchmarkAcceptLoad, the run measures accepts alone.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer hole.Close()
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	s.write(b, "delivery_workers = 1\ndelivery_timeout = \"1h\"\n"+acceptBenchLimits, `color = "#000000"`)
	cfg, _ := os.ReadFile(s.cfgPath)
	s.writeConfig(b, strings.Replace(string(cfg), "127.0.0.1:9", hole.Addr().String(), 1))
	rcpts, err := report.ParseRecipients([]string{s.recipient})
	if err != nil {
		b.Fatal(err)
	}
	body, err := report.Seal(ordinaryReport(uuid.NewString()), rcpts)
	if err != nil {
		b.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	relay := startProc(b, "", nil, bin, "serve", "-config", s.cfgPath, "-listen", addr)
	relay.waitUntil(b, "the relay to be ready", func() bool { return answers200("http://" + addr + "/readyz") })
	n := max(b.N, 2*loadtest.Conns)
	ids, proofs := make([]string, n), make([]string, n)
	for i := range n {
		ids[i] = uuid.NewString()
		if proofs[i], err = solveChallenge(addr, "s1"); err != nil {
			b.Fatalf("challenge: %v\n%s", err, relay.out)
		}
	}
	noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer noop.Close()
	client := loadtest.Client()
	defer client.CloseIdleConnections()
	path := func(i int) string { return "/v1/sites/s1/reports/" + ids[i] }
	hdr := func(i int) []string { return []string{pow.Header, proofs[i]} }

	var peak atomic.Int64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := procAnonKB(relay); kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	c0 := cputime.Used()
	base := loadtest.Run(b, client, noop.URL, n, http.StatusAccepted, body, path, hdr)
	c1, r1, w1 := cputime.Used(), cputime.UsedBy(relay.pid()), cputime.WrittenBy(relay.pid())
	got := loadtest.Run(b, client, "http://"+addr, n, http.StatusAccepted, body, path, hdr)
	c2, r2, w2 := cputime.Used(), cputime.UsedBy(relay.pid()), cputime.WrittenBy(relay.pid())
	b.StopTimer()
	close(stop)
	<-sampled

	// CPU per request, client and relay together, as BenchmarkAcceptLoad
	// counts it in one process, and the relay's alone.
	b.ReportMetric(float64(c2-c1+r2-r1)/float64(n)/1e3, "cpu-µs/accept")
	b.ReportMetric(float64(r2-r1)/float64(n)/1e3, "relay-cpu-µs/accept")
	b.ReportMetric(float64(c1-c0)/float64(n)/1e3, "cpu-µs/noop-req")
	if w1 >= 0 && w2 >= 0 {
		b.ReportMetric(float64(w2-w1)/float64(n)/1024, "disk-KB/accept")
	}
	b.ReportMetric(got.PerSecond(), "accepts/s")
	b.ReportMetric(base.PerSecond(), "noop-req/s")
	b.ReportMetric(got.PerSecond()/base.PerSecond(), "x-noop-rate")
	b.ReportMetric(float64(got.Quantile(0.5))/float64(base.Quantile(0.5)), "p50-x-noop")
	b.ReportMetric(float64(got.Quantile(0.99))/float64(base.Quantile(0.99)), "p99-x-noop")
	b.ReportMetric(float64(got.Quantile(0.99))/1e6, "p99-ms")
	b.ReportMetric(float64(peak.Load())/1024, "relay-peak-anon-MB")
}

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/cputime"
	"github.com/reportline/reportline/internal/loadtest"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
)

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
	s.write(b, "delivery_workers = 1\ndelivery_timeout = \"1h\"\n"+loadtest.RelayLimits, `color = "#000000"`)
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

	peaks := samplePeaks(relay)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	c0 := cputime.Used()
	base := loadtest.Run(b, client, noop.URL, n, http.StatusAccepted, body, path, hdr)
	c1, r1, w1 := cputime.Used(), cputime.UsedBy(relay.pid()), cputime.WrittenBy(relay.pid())
	got := loadtest.Run(b, client, "http://"+addr, n, http.StatusAccepted, body, path, hdr)
	c2, r2, w2 := cputime.Used(), cputime.UsedBy(relay.pid()), cputime.WrittenBy(relay.pid())
	b.StopTimer()
	peak := peaks()[0]

	// CPU per request, client and relay together, as BenchmarkAcceptLoad
	// counts it in one process, and the relay's alone.
	b.ReportMetric(float64(c2-c1+r2-r1)/float64(n)/1e3, "cpu-µs/accept")
	b.ReportMetric(float64(r2-r1)/float64(n)/1e3, "relay-cpu-µs/accept")
	b.ReportMetric(float64(c1-c0)/float64(n)/1e3, "cpu-µs/noop-req")
	if w1 >= 0 && w2 >= 0 {
		b.ReportMetric(float64(w2-w1)/float64(n)/1024, "disk-KB/accept")
	}
	loadtest.ReportAccepts(b, got, base)
	b.ReportMetric(float64(peak)/1024, "relay-peak-anon-MB")
}

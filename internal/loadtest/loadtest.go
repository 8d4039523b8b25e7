// Package loadtest sends bounded loads of requests over loopback for the
// relay's benchmarks: a fixed number of requests over a fixed number of
// connections kept busy, each request's latency recorded.
package loadtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Conns is how many connections the load benchmarks keep busy.
const Conns = 32

// RelayLimits is the [relay.pow] and [relay.limits] tables of a relay's
// configuration that let every benchmark request through, so that each
// benchmark measures the path it names: all its connections come from one
// address. The proof-of-work difficulty stays put: the benchmarks solve
// thousands of proofs before they start, and a difficulty raised by that
// load (it doubles each minute above raise_above_challenges_per_minute)
// would make the last proofs take so long that the first ones expired
// before they were sent.
const RelayLimits = `
[relay.pow]
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
max_concurrent_reports_per_client = 1000
`

// Result is one load run: its wall time and each request's latency.
type Result struct {
	Elapsed   time.Duration
	Latencies []time.Duration
}

// PerSecond is the requests answered per second.
func (r Result) PerSecond() float64 {
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Quantile is the latency below which the share q of the requests were
// answered.
func (r Result) Quantile(q float64) time.Duration {
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// Client returns a client that keeps Conns connections to a host.
func Client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: Conns, MaxConnsPerHost: Conns}}
}

// Run posts body n times to base over Conns connections, request i to
// path(i) with the header pairs hdr(i), and fails tb unless each is
// answered want. The loop ends after n requests, or at the first failure.
func Run(tb testing.TB, client *http.Client, base string, n, want int, body []byte, path func(i int) string, hdr func(i int) []string) Result {
	tb.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range Conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				req, _ := http.NewRequest("POST", base+path(i), bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/octet-stream")
				h := hdr(i)
				for j := 0; j+1 < len(h); j += 2 {
					req.Header.Set(h[j], h[j+1])
				}
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t)
				if resp.StatusCode != want {
					failed.Store(fmt.Sprintf("status %d, want %d: %s", resp.StatusCode, want, answer))
					return
				}
			}
		})
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		tb.Fatal(msg)
	}
	return Result{Elapsed: time.Since(start), Latencies: lat}
}

// ReportAccepts reports a run of accepts against its baseline, a run of
// the same requests from the same client to a no-op handler: the rates,
// their ratio, and the median and 99th percentile latencies as ratios to
// the baseline's, the 99th also in milliseconds.
func ReportAccepts(b *testing.B, got, base Result) {
	b.ReportMetric(got.PerSecond(), "accepts/s")
	b.ReportMetric(base.PerSecond(), "noop-req/s")
	b.ReportMetric(got.PerSecond()/base.PerSecond(), "x-noop-rate")
	b.ReportMetric(float64(got.Quantile(0.5))/float64(base.Quantile(0.5)), "p50-x-noop")
	b.ReportMetric(float64(got.Quantile(0.99))/float64(base.Quantile(0.99)), "p99-x-noop")
	b.ReportMetric(float64(got.Quantile(0.99))/1e6, "p99-ms")
}

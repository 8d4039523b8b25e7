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

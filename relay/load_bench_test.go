package relay

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/cputime"
	"github.com/reportline/reportline/internal/loadtest"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
)

// BenchmarkAcceptLoad measures durable accepts (202 only once the report is
// fsynced) at 32 connections over loopback, against a no-op net/http
// handler that reads the same bodies from the same client in the same run.
// It reports accepts/s, the no-op's requests/s, their ratio (goal ≥ 0.5),
// and p50 and p99 latency as ratios to the no-op's and in milliseconds
// (goal p99 < 20 ms).
func BenchmarkAcceptLoad(b *testing.B) { acceptLoad(b, nil, nil) }

// BenchmarkAcceptLoadUnstored is BenchmarkAcceptLoad with every report
// kept in memory only: the same requests, checks and answers, nothing
// written. It is the ceiling any store leaves the relay, against the same
// no-op handler in the same run.
func BenchmarkAcceptLoadUnstored(b *testing.B) { acceptLoad(b, &memAcceptor{}, nil) }

// memAcceptor keeps reports in a map and stores nothing.
type memAcceptor struct {
	mu sync.Mutex
	m  map[string]spool.Entry
}

func (a *memAcceptor) Put(e spool.Entry) (spool.Entry, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.m[e.ID]; ok {
		if !bytes.Equal(old.Body, e.Body) {
			return spool.Entry{}, false, spool.ErrConflict
		}
		return old, false, nil
	}
	if a.m == nil {
		a.m = map[string]spool.Entry{}
	}
	a.m[e.ID] = e
	return e, true, nil
}

func (a *memAcceptor) Writable() error { return nil }

// acceptLoad is BenchmarkAcceptLoad with the reports stored in st (the
// fixture's spool if nil), and setup, if set, applied to the relay before
// it issues proofs.
func acceptLoad(b *testing.B, st store.Acceptor, setup func(*Server)) {
	f := newFixtureWith(b, benchAbuse)
	if st == nil {
		st = f.sp
	}
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	assets, err := LoadAssets(dir)
	if err != nil {
		b.Fatal(err)
	}
	// A server of its own, whose logger and store hook are safe for
	// concurrent requests; proofs are issued by it.
	srv := New(f.cfg, st, assets, slog.New(slog.DiscardHandler), func() {})
	if setup != nil {
		setup(srv)
	}
	f.srv = srv
	_, body := f.sealed(b)
	n := max(b.N, 2*loadtest.Conns)
	ids, proofs := make([]string, n), make([]string, n)
	for i := range n {
		ids[i], proofs[i] = uuid.NewString(), f.proof(b, "s1")
	}
	noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer noop.Close()
	relay := httptest.NewServer(srv)
	defer relay.Close()
	client := loadtest.Client()
	defer client.CloseIdleConnections()
	path := func(i int) string { return "/v1/sites/s1/reports/" + ids[i] }
	hdr := func(i int) []string { return []string{HeaderProof, proofs[i]} }

	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	c0 := cputime.Used()
	base := loadtest.Run(b, client, noop.URL, n, http.StatusAccepted, body, path, hdr)
	c1, w1 := cputime.Used(), cputime.Written()
	got := loadtest.Run(b, client, relay.URL, n, http.StatusAccepted, body, path, hdr)
	c2, w2 := cputime.Used(), cputime.Written()
	b.StopTimer()
	// CPU per request, client included: on a shared machine the rates
	// follow the share of CPU the run got, the work per request does not.
	b.ReportMetric(float64(c2-c1)/float64(n)/1e3, "cpu-µs/accept")
	b.ReportMetric(float64(c1-c0)/float64(n)/1e3, "cpu-µs/noop-req")
	if w1 >= 0 && w2 >= 0 {
		// What the store wrote to the disk per report: its pages, each
		// commit's meta page, and what the file grew by.
		b.ReportMetric(float64(w2-w1)/float64(n)/1024, "disk-KB/accept")
	}
	loadtest.ReportAccepts(b, got, base)
}

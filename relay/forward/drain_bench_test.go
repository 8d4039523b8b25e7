package forward_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/cputime"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// anonKB reads the process's resident anonymous memory (heap, stacks: not
// the spool's mapped file) from /proc.
func anonKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// backlogRate is how many reports a second the backlog BenchmarkDrain
// empties came in at: a backlog that built up over minutes, as one does
// while an intake is down under load, not one that came in all at once.
const backlogRate = 500

// fillSpool puts n reports into sp, each sealed by seal with its id (an
// intake refuses an envelope whose sealed id is not the delivered one),
// received backlogRate a second over the time before now, so that all of
// them are due.
func fillSpool(b *testing.B, sp *spool.Spool, n int, seal func(id string) []byte) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now().Add(-time.Minute - time.Duration(n/backlogRate)*time.Second)
	for range 256 {
		wg.Go(func() {
			for k := next.Add(1); k <= int64(n); k = next.Add(1) {
				id := uuid.NewString()
				received := start.Add(time.Duration(k/backlogRate) * time.Second)
				if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Received: received, Body: seal(id)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkDrain measures how fast the relay's forwarder empties a backlog
// of b.N queued reports (run it with -benchtime=100000x) with the default
// concurrency, into an intake on loopback: "intake", the real one, which
// verifies, opens and durably stores each report in two files; "noop", a
// handler that reads the delivery and answers 200, for the relay's own
// ceiling in the same run. It reports deliveries/s (goal ≥ 2,000/s, and
// more than the accepts/s of BenchmarkAcceptLoad) and the peak anonymous
// memory of the whole process, relay and intake together, while the
// backlog drains (goal ≤ 64 MB).
//
// The real intake announces batched deliveries, so the relay sends it
// batches; the no-op handler does not, so it gets single deliveries.
// "intake-single" is the real intake behind a handler that takes its
// announcement out of its answers, so that it gets single deliveries:
// "intake" against it is what batches gain. "intake-hmac" is the real
// intake again, with the deliveries signed with an HMAC secret (signature
// version v1) instead of an Ed25519 key: what the choice of signature
// costs. Run it with -count=3 to alternate the cases on a shared machine.
func BenchmarkDrain(b *testing.B) {
	b.Run("noop", func(b *testing.B) { benchDrain(b, false, false, false) })
	b.Run("intake", func(b *testing.B) { benchDrain(b, true, false, false) })
	b.Run("intake-single", func(b *testing.B) { benchDrain(b, true, false, true) })
	b.Run("intake-hmac", func(b *testing.B) { benchDrain(b, true, true, false) })
}

// noBatches is a ResponseWriter that takes delivery.BatchHeader out of
// the answer it writes: an intake that does not announce batches.
type noBatches struct{ http.ResponseWriter }

func (w noBatches) WriteHeader(code int) {
	w.Header().Del(delivery.BatchHeader)
	w.ResponseWriter.WriteHeader(code)
}

func (w noBatches) Write(p []byte) (int, error) {
	w.Header().Del(delivery.BatchHeader)
	return w.ResponseWriter.Write(p)
}

func benchDrain(b *testing.B, real, hmac, single bool) {
	sk, pk, _ := delivery.GenerateEd25519()
	var signer delivery.Signer
	signer, _ = delivery.NewEd25519Signer(sk)
	if hmac {
		pk, _ = delivery.GenerateHMACSecret()
		signer, _ = delivery.NewHMACSigner(pk)
	}
	v, _ := delivery.NewVerifier(pk)
	id, _ := age.GenerateHybridIdentity()
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	r := report.Report{Version: 1, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam",
		Description: strings.Repeat("a report of ordinary length ", 20)}
	seal := func(id string) []byte {
		r := r
		r.ID = id
		env, err := report.Seal(&r, rcpts)
		if err != nil {
			b.Error(err)
		}
		return env
	}
	dir, err := os.MkdirTemp("", "drain-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchDirs.Lock()
	benchDirs.paths = append(benchDirs.paths, dir)
	benchDirs.Unlock()
	sp, err := spool.Open(filepath.Join(dir, "spool.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	fillSpool(b, sp, b.N, seal)
	in := &intake.Intake{Verifier: v, Inbox: filepath.Join(dir, "inbox"), Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)}
	var h http.Handler = in
	if single {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { in.ServeHTTP(noBatches{w}, r) })
	}
	if !real {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	}
	var requests atomic.Int64
	counted := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1); counted.ServeHTTP(w, r) })
	ts := httptest.NewServer(h)
	defer ts.Close()
	var delivered atomic.Int64
	f := &forward.Forwarder{Spool: sp, Log: slog.New(slog.DiscardHandler), Metrics: countDelivered{&delivered},
		MinBackoff: time.Second, MaxBackoff: time.Minute, Workers: config.DefaultDeliveryWorkers}
	f.SetEndpoints(map[string]forward.Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: config.DefaultConcurrency, MaxIdleConnsPerHost: config.DefaultConcurrency}}, Concurrency: config.DefaultConcurrency}})

	// What filling the spool left is given back first, so that the peak
	// is the drain's.
	runtime.GC()
	debug.FreeOSMemory()
	before := anonKB()
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if kb := anonKB(); kb > peak.Load() {
					peak.Store(kb)
				}
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.ResetTimer()
	io0 := cputime.Written()
	st0 := in.Stats()
	start, cpu := time.Now(), cputime.Used()
	go func() { f.Run(ctx); close(done) }()
	deadline := time.Now().Add(time.Duration(b.N)*20*time.Millisecond + time.Minute)
	for delivered.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered", delivered.Load(), b.N)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), cputime.Used()-cpu
	io1 := cputime.Written()
	st1 := in.Stats()
	b.StopTimer()
	cancel()
	<-done
	close(stop)
	<-sampled
	if st, _ := sp.Stats(); st.Pending != 0 {
		b.Fatalf("%d reports still pending", st.Pending)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	// Under 1 when reports went in batches.
	b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/delivery")
	// CPU per delivery, relay and intake together: see BenchmarkAcceptLoad.
	b.ReportMetric(float64(cpu)/float64(b.N)/1e3, "cpu-µs/delivery")
	b.ReportMetric(float64(peak.Load())/1024, "peak-anon-MB")
	if io0 >= 0 && io1 >= 0 {
		b.ReportMetric(float64(io1-io0)/float64(b.N)/1024, "disk-KB/delivery")
	}
	b.ReportMetric(float64(before)/1024, "start-anon-MB")
	if real {
		// The share of the drain during which the intake's inbox was
		// being flushed (one flush at a time serves every report waiting
		// when it starts): near 1, its disk is what holds the drain.
		b.ReportMetric(float64(st1.FlushTime-st0.FlushTime)/float64(elapsed), "flush-busy")
		b.ReportMetric(float64(st1.Flushes-st0.Flushes)/float64(b.N), "flushes/delivery")
	}
}

// benchDirs are the folders BenchmarkDrain's runs wrote, removed only once
// every test and benchmark of the package has run. On a filesystem without
// a journal (ext4 as this machine has it), creating a file soon after many
// were deleted costs far more: the inode allocator passes over every inode
// freed in the last minutes, and a profile of a drain that followed
// another's clean-up put a third of the machine's CPU there. Removing a
// run's tens of thousands of files at its end would make the next run pay
// for them.
var benchDirs struct {
	sync.Mutex
	paths []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs.paths {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// countDelivered counts deliveries for BenchmarkDrain.
type countDelivered struct{ n *atomic.Int64 }

func (c countDelivered) Inc(m metrics.Counter, label string) {
	if m == metrics.Delivered {
		c.n.Add(1)
	}
}

func (countDelivered) Set(metrics.Gauge, string, float64)               {}
func (countDelivered) Observe(metrics.Histogram, string, time.Duration) {}

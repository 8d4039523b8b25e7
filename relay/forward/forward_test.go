package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
)

type intakeStub struct {
	mu       sync.Mutex
	verifier *delivery.Verifier
	answers  []int // status per call; the last repeats
	header   http.Header
	body     string // the answer's body
	calls    int
	got      []delivery.Payload
	verifyOK []bool
}

func (s *intakeStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	_, _, err := s.verifier.Verify(r.Header, body, time.Now())
	s.verifyOK = append(s.verifyOK, err == nil)
	var p delivery.Payload
	json.Unmarshal(body, &p)
	s.got = append(s.got, p)
	status := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	for k, v := range s.header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	io.WriteString(w, s.body)
}

func setup(t *testing.T, answers ...int) (*Forwarder, *intakeStub, *spool.Spool) {
	t.Helper()
	var stub *intakeStub
	f, sp := newForwarder(t, 2, &counts{}, func(v *delivery.Verifier) http.Handler {
		stub = &intakeStub{verifier: v, answers: answers}
		return stub
	})
	return f, stub, sp
}

// newForwarder returns a forwarder of the given workers, on a spool of
// its own, delivering to hotline h1 at that concurrency, signed with a
// new Ed25519 key, at the intake that intake returns for the key's
// verifier.
func newForwarder(t *testing.T, workers int, c *counts, intake func(*delivery.Verifier) http.Handler) (*Forwarder, *spool.Spool) {
	t.Helper()
	sk, pk, err := delivery.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := delivery.NewEd25519Signer(sk)
	v, _ := delivery.NewVerifier(pk)
	ts := httptest.NewServer(intake(v))
	t.Cleanup(ts.Close)
	sp, err := spool.Open(filepath.Join(t.TempDir(), "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	f := &Forwarder{
		Spool: sp, Log: slog.New(slog.DiscardHandler), Metrics: c,
		MinBackoff: time.Minute, MaxBackoff: time.Hour, MaxAge: 48 * time.Hour, Workers: workers,
	}
	f.SetEndpoints(map[string]Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: ts.Client(), Concurrency: workers}})
	return f, sp
}

// deliverDue starts every delivery that is due and waits for them.
func (f *Forwarder) deliverDue(ctx context.Context) (int, error) {
	f.init()
	f.mu.Lock()
	before := len(f.inflight)
	f.mu.Unlock()
	_, err := f.dispatch(ctx)
	f.mu.Lock()
	n := len(f.inflight) - before
	f.mu.Unlock()
	f.Wait()
	return n, err
}

// counts is a metrics.Recorder for tests.
type counts struct {
	mu sync.Mutex
	c  map[string]int
	g  map[string]float64
	h  map[string][]time.Duration
}

func (c *counts) Inc(m metrics.Counter, label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		c.c = map[string]int{}
	}
	c.c[fmt.Sprint(int(m), "/", label)]++
}

func (c *counts) Set(m metrics.Gauge, label string, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.g == nil {
		c.g = map[string]float64{}
	}
	c.g[fmt.Sprint(int(m), "/", label)] = v
}

func (c *counts) Observe(m metrics.Histogram, label string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h == nil {
		c.h = map[string][]time.Duration{}
	}
	k := fmt.Sprint(int(m), "/", label)
	c.h[k] = append(c.h[k], d)
}

// observed returns the durations a histogram observed under label.
func (c *counts) observed(m metrics.Histogram, label string) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.h[fmt.Sprint(int(m), "/", label)]...)
}

func (c *counts) count(m metrics.Counter, label string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c[fmt.Sprint(int(m), "/", label)]
}

func (c *counts) gauge(m metrics.Gauge, label string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.g[fmt.Sprint(int(m), "/", label)]
}

func put(t *testing.T, sp *spool.Spool, id string, received time.Time) {
	t.Helper()
	if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Received: received, Body: []byte("age-envelope-" + id)}); err != nil {
		t.Fatal(err)
	}
}

const id1 = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"

func TestDeliverRemovesAfter2xx(t *testing.T) {
	f, stub, sp := setup(t, 202)
	put(t, sp, id1, time.Now().Add(-time.Second))
	if n, err := f.deliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("deliverDue = %d, %v", n, err)
	}
	if _, err := sp.Get(id1); !errors.Is(err, spool.ErrNotFound) {
		t.Fatalf("delivered report still in the spool: %v", err)
	}
	if len(stub.got) != 1 || !stub.verifyOK[0] {
		t.Fatalf("intake got %d deliveries, signature ok %v", len(stub.got), stub.verifyOK)
	}
	p := stub.got[0]
	if p.Type != delivery.EventType || p.Data.ID != id1 || string(p.Data.Envelope) != "age-envelope-"+id1 || p.Data.Site != "s1" {
		t.Errorf("payload %+v", p)
	}
}

func TestRetryKeepsReport(t *testing.T) {
	f, stub, sp := setup(t, 503)
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	e, err := sp.Get(id1)
	if err != nil {
		t.Fatalf("a failed delivery lost the report: %v", err)
	}
	if e.Attempts != 1 || e.LastError != "intake answered 503" {
		t.Errorf("entry after failure: attempts %d, last error %q", e.Attempts, e.LastError)
	}
	if wait := time.Until(e.NextAttempt); wait < 40*time.Second || wait > 80*time.Second {
		t.Errorf("next attempt in %v, want about MinBackoff (1m ± 25%%)", wait)
	}
	// Not due yet: nothing is sent again.
	f.deliverDue(context.Background())
	if stub.calls != 1 {
		t.Errorf("retried before the backoff ran out: %d calls", stub.calls)
	}
}

// TestRefusalNamesProblem: a refusal's problem type is kept as the
// report's last error, so that `relay spool ls` and the log say why (an
// intake started with another -hotline answers 400 bad-delivery), and
// the log says what to check.
func TestRefusalNamesProblem(t *testing.T) {
	f, stub, sp := setup(t, 400)
	var log strings.Builder
	f.Log = slog.New(slog.NewTextHandler(&log, nil))
	stub.header = http.Header{"Content-Type": {"application/problem+json"}}
	stub.body = `{"type":"https://reportline.dev/problems/bad-delivery","title":"Bad delivery","status":400,"detail":"report is for hotline \"h1\", this is \"h2\""}`
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	e, err := sp.Get(id1)
	if err != nil || e.LastError != "intake answered 400 (https://reportline.dev/problems/bad-delivery)" {
		t.Errorf("after a 400 bad-delivery: %+v, %v; want the problem type in the last error", e, err)
	}
	if !strings.Contains(log.String(), "-hotline") {
		t.Errorf("log:\n%s\nwant it to name the intake's -hotline", log.String())
	}
}

// TestIntakeNotListening: a relay started before its intake, or with an
// intake_url where nothing listens, keeps the report and says what to do,
// in the report's last error that `relay spool ls` shows.
func TestIntakeNotListening(t *testing.T) {
	f, _, sp := setup(t, 200)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	sk, _, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	f.SetEndpoints(map[string]Endpoint{"h1": {URL: "http://" + addr + "/v1/deliveries", Signer: signer, Client: &http.Client{}, Concurrency: 1}})
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	e, err := sp.Get(id1)
	if err != nil || e.Attempts != 1 || !strings.HasPrefix(e.LastError, "failed to reach the intake: nothing listens at the hotline's intake_url (start the intake, or fix intake_url)") {
		t.Errorf("after a refused connection: %+v, %v; want the report kept and what to do", e, err)
	}
}

// TestRefusedSignatureSaysWhatToCheck: an intake that answers 401 does
// not take the relay's signature: a key it does not trust, or a clock
// too far from the relay's, whose timestamps it takes for replays. The
// log names both.
func TestRefusedSignatureSaysWhatToCheck(t *testing.T) {
	f, _, sp := setup(t, 401)
	var log strings.Builder
	f.Log = slog.New(slog.NewTextHandler(&log, nil))
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	for _, want := range []string{"relay's key", "clocks agree", "-tolerance"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log:\n%s\nwant it to say %q", log.String(), want)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f, stub, sp := setup(t, 429)
	stub.header = http.Header{"Retry-After": {"7200"}}
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	e, _ := sp.Get(id1)
	if wait := time.Until(e.NextAttempt); wait < 119*time.Minute {
		t.Errorf("next attempt in %v, want at least the 2h of Retry-After", wait)
	}
}

func TestGoneBuries(t *testing.T) {
	f, _, sp := setup(t, 410)
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	e, err := sp.Get(id1)
	if err != nil || !e.Dead || e.Attempts != 1 {
		t.Fatalf("after 410: %+v, %v; want it in the dead-letter area, its one attempt counted (relay spool ls shows it)", e, err)
	}
}

func TestTooOldBuries(t *testing.T) {
	f, _, sp := setup(t, 500)
	put(t, sp, id1, time.Now().Add(-49*time.Hour))
	f.deliverDue(context.Background())
	if e, err := sp.Get(id1); err != nil || !e.Dead {
		t.Fatalf("after MaxAge: %+v, %v; want it in the dead-letter area", e, err)
	}
}

func TestRunDeliversOnNotify(t *testing.T) {
	f, stub, sp := setup(t, 200)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	put(t, sp, id1, time.Now())
	f.Notify()
	waitFor(t, "Run to deliver after Notify", func() bool {
		stub.mu.Lock()
		defer stub.mu.Unlock()
		return stub.calls == 1
	})
	cancel()
	<-done
}

func TestBackoff(t *testing.T) {
	f := &Forwarder{MinBackoff: 5 * time.Second, MaxBackoff: time.Hour}
	for attempts, base := range map[int]time.Duration{0: 5 * time.Second, 1: 10 * time.Second, 3: 40 * time.Second, 30: time.Hour} {
		for i := 0; i < 50; i++ {
			d := f.Backoff(attempts)
			if d < base*3/4 || d > base*5/4 {
				t.Fatalf("Backoff(%d) = %v, want %v ± 25%%", attempts, d, base)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"-5":                            0,
		"soon":                          0,
		"999999":                        24 * time.Hour,
		"Thu, 26 Nov 2026 12:10:00 GMT": 10 * time.Minute,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testcert"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
)

// waitFor polls cond until it holds, for a minute at most: room for a
// busy machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gatedIntake holds every delivery for hotline "slow" until release is
// closed, and records how many were under way at once.
type gatedIntake struct {
	release        chan struct{}
	now, most, all atomic.Int32
	fast           atomic.Int32
}

func (g *gatedIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if strings.HasSuffix(r.URL.Path, "/fast") {
		g.fast.Add(1)
		return
	}
	n := g.now.Add(1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	<-g.release
	g.now.Add(-1)
	g.all.Add(1)
}

func TestPerHotlineConcurrency(t *testing.T) {
	f, _, sp := setup(t, 200)
	g := &gatedIntake{release: make(chan struct{})}
	ts := httptest.NewServer(g)
	defer ts.Close()
	signer := f.endpoints["h1"].Signer
	f.Workers = 2
	f.SetEndpoints(map[string]Endpoint{
		"slow": {URL: ts.URL + "/slow", Signer: signer, Client: ts.Client(), Concurrency: 1},
		"fast": {URL: ts.URL + "/fast", Signer: signer, Client: ts.Client(), Concurrency: 1},
	})
	// Forty reports for the slow hotline, all older than the one for the
	// fast hotline: more than one pass's first window holds.
	old := time.Now().Add(-time.Hour)
	for i := range 40 {
		if _, _, err := sp.Put(spool.Entry{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Hotline: "slow", Site: "s1", Received: old, Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := sp.Put(spool.Entry{ID: id1, Hotline: "fast", Site: "s1", Received: time.Now().Add(-time.Second), Body: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	waitFor(t, "the fast hotline's report, behind the slow hotline's, while the slow hotline is busy", func() bool {
		return g.fast.Load() == 1 && g.now.Load() == 1
	})
	if m := g.most.Load(); m != 1 {
		t.Errorf("%d deliveries to a hotline with concurrency 1 at once", m)
	}
	close(g.release)
	waitFor(t, "every report delivered", func() bool { st, _ := sp.Stats(); return st.Pending == 0 })
	if m := g.most.Load(); m != 1 || g.all.Load() != 40 {
		t.Errorf("most at once %d, delivered %d", m, g.all.Load())
	}
	cancel()
	<-done
	if c := f.Metrics.(*counts); c.count(metrics.Delivered, "slow") != 40 || c.count(metrics.Delivered, "fast") != 1 {
		t.Errorf("delivered counters %v", c.c)
	}
}

func TestGoneStopsEndpointUntilReload(t *testing.T) {
	f, stub, sp := setup(t, 410, 200)
	ep := f.endpoints["h1"].Endpoint
	ep.Concurrency = 1
	f.SetEndpoints(map[string]Endpoint{"h1": ep})
	const id2 = "4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	put(t, sp, id1, time.Now().Add(-2*time.Second))
	put(t, sp, id2, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	f.deliverDue(context.Background())
	if e, err := sp.Get(id1); err != nil || !e.Dead {
		t.Fatalf("the report answered 410: %+v, %v; want it dead", e, err)
	}
	e, err := sp.Get(id2)
	if err != nil || e.Dead || !strings.Contains(e.LastError, "stopped") {
		t.Fatalf("the next report: %+v, %v; want it pending, held back", e, err)
	}
	if stub.calls != 1 {
		t.Errorf("intake called %d times after 410, want 1", stub.calls)
	}
	c := f.Metrics.(*counts)
	if c.count(metrics.Alarms, "intake_gone") != 1 || c.gauge(metrics.IntakeStopped, "h1") != 1 || c.count(metrics.DeadLettered, "h1") != 1 {
		t.Errorf("metrics after 410: %v %v", c.c, c.g)
	}
	// A reload resumes delivery.
	f.SetEndpoints(map[string]Endpoint{"h1": ep})
	if c.gauge(metrics.IntakeStopped, "h1") != 0 {
		t.Error("reload did not clear the stopped gauge")
	}
	const id3 = "5f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	put(t, sp, id3, time.Now())
	f.deliverDue(context.Background())
	if _, err := sp.Get(id3); !errors.Is(err, spool.ErrNotFound) {
		t.Errorf("after reload the report was not delivered: %v", err)
	}
}

func TestUnknownHotlineKeepsReport(t *testing.T) {
	f, stub, sp := setup(t, 200)
	if _, _, err := sp.Put(spool.Entry{ID: id1, Hotline: "gone-from-config", Site: "s1", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	f.deliverDue(context.Background())
	if e, err := sp.Get(id1); err != nil || e.Dead || !strings.Contains(e.LastError, "no such hotline") || stub.calls != 0 {
		t.Fatalf("%+v, %v, %d calls", e, err, stub.calls)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	f, stub, sp := setup(t, 308)
	var followed atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Store(true) }))
	defer elsewhere.Close()
	stub.header = http.Header{"Location": {elsewhere.URL}}
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	e, _ := sp.Get(id1)
	if followed.Load() || !strings.Contains(e.LastError, "redirect") {
		t.Errorf("followed %v, last error %q", followed.Load(), e.LastError)
	}
}

func TestRunDrainsOnShutdown(t *testing.T) {
	f, _, sp := setup(t, 200)
	var inHandler atomic.Bool
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Store(true)
		io.Copy(io.Discard, r.Body)
		time.Sleep(300 * time.Millisecond)
	}))
	defer slow.Close()
	ep := f.endpoints["h1"].Endpoint
	ep.URL, ep.Client = slow.URL, slow.Client()
	f.SetEndpoints(map[string]Endpoint{"h1": ep})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	put(t, sp, id1, time.Now())
	f.Notify()
	waitFor(t, "the delivery to start", inHandler.Load)
	cancel()
	<-done
	if _, err := sp.Get(id1); !errors.Is(err, spool.ErrNotFound) {
		t.Errorf("Run returned before the delivery under way finished: %v", err)
	}
}

func TestMutualTLSAndHMAC(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "test hotline CA")
	serverCert, _, _ := ca.Issue(t, "intake.test", true)
	caFile, certFile, keyFile := ca.WriteFiles(t, dir, "relay-client", false)
	secret, _ := delivery.GenerateHMACSecret()
	v, _ := delivery.NewVerifier(secret)

	var mu sync.Mutex
	var got []string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, _, err := v.Verify(r.Header, body, time.Now())
		if err != nil {
			w.WriteHeader(401)
			return
		}
		mu.Lock()
		got = append(got, id+" from "+r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	ts.StartTLS()
	defer ts.Close()

	f, _, sp := setup(t, 200)
	signer, err := delivery.NewHMACSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	withCert, err := ClientTLS(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	f.SetEndpoints(map[string]Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: NewClient(withCert, 10*time.Second, 1)}})
	put(t, sp, id1, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	if len(got) != 1 || got[0] != id1+" from relay-client" {
		t.Fatalf("intake got %v; the spool says %v", got, lastError(sp, id1))
	}

	// Without the client certificate, the intake's TLS refuses the relay
	// and the report stays for a retry.
	withoutCert, err := ClientTLS("", "", caFile)
	if err != nil {
		t.Fatal(err)
	}
	f.SetEndpoints(map[string]Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: NewClient(withoutCert, 10*time.Second, 1)}})
	const id2 = "4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	put(t, sp, id2, time.Now().Add(-time.Second))
	f.deliverDue(context.Background())
	if e, err := sp.Get(id2); err != nil || e.Attempts != 1 || !strings.Contains(e.LastError, "failed to reach the intake") {
		t.Fatalf("without a client certificate: %+v, %v", e, err)
	}
}

func lastError(sp *spool.Spool, id string) string {
	e, err := sp.Get(id)
	if err != nil {
		return err.Error()
	}
	return e.LastError
}

package relay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/testlog"
)

// slotLimits let the tests below tell clients apart on loopback: the
// relay trusts 127.0.0.1 as a proxy, and each test client names itself in
// X-Forwarded-For. Everything else is the default, 64 bodies at once
// among them.
const slotLimits = testAbuse + `trusted_proxies = ["127.0.0.1"]
`

// bodyWatch tells, once per request, when the relay has read the first
// byte of a report body: that request now holds a body slot.
type bodyWatch struct {
	h       http.Handler
	reading chan struct{}
}

func (b *bodyWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = &firstByte{ReadCloser: r.Body, reading: b.reading}
	b.h.ServeHTTP(w, r)
}

type firstByte struct {
	io.ReadCloser
	reading chan struct{}
	seen    bool
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && !f.seen {
		f.seen = true
		f.reading <- struct{}{}
	}
	return n, err
}

// stalledSet is a set of report requests that send their headers and one
// byte of the body, then nothing more, as a slow-body attack does.
type stalledSet struct {
	answers chan int // the status of each request the relay answered
}

// stall sends one such request to addr from client xff with the proof of
// work proof; its connection stays open until the test ends.
func (s *stalledSet) stall(t *testing.T, addr, xff, proof string, body []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/sites/s1/reports/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: %d\r\nX-Forwarded-For: %s\r\n%s: %s\r\n\r\n",
		uuid.NewString(), len(body), xff, HeaderProof, proof)
	conn.Write(body[:1])
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return // closed at the end of the test
		}
		resp.Body.Close()
		s.answers <- resp.StatusCode
	}()
}

// settle waits until each of n stalled requests is either answered or
// holding a body slot, and returns how many hold one and the answers.
func (s *stalledSet) settle(t *testing.T, w *bodyWatch, n int) (holding int, answers map[int]int) {
	t.Helper()
	answers = map[int]int{}
	limit := time.After(2 * time.Minute)
	for i := 0; i < n; i++ {
		select {
		case <-w.reading:
			holding++
		case code := <-s.answers:
			answers[code]++
		case <-limit:
			t.Fatalf("after 2 minutes, %d of %d stalled requests settled: %d hold a body slot, answers %v", i, n, holding, answers)
		}
	}
	return holding, answers
}

// honestReport sends a whole, valid report from client xff with a fresh
// proof of work, and returns the status and body of the answer.
func honestReport(t *testing.T, f *fixture, addr, xff string) (int, string) {
	t.Helper()
	id, body := f.sealed(t)
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/sites/s1/reports/"+id, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Forwarded-For", xff)
	req.Header.Set(HeaderProof, f.proof(t, "s1"))
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("honest report: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOneProofHoldsOneSlot: one solved challenge sent with 64 slow bodies
// (one byte each) holds at most one body slot; the other 63 requests are
// refused before their bodies are read, and an honest report still gets
// through.
func TestOneProofHoldsOneSlot(t *testing.T) {
	f := newFixtureWith(t, slotLimits)
	f.srv.def.bodyGrace = time.Hour // slots, not the minimum rate, are under test
	w := &bodyWatch{h: f.srv, reading: make(chan struct{}, 128)}
	addr := serveHandler(t, w, f.srv.log, Timeouts{ReadHeader: time.Minute, Read: 5 * time.Minute, Write: time.Minute, Idle: time.Minute})
	_, body := f.sealed(t)
	proof := f.proof(t, "s1")
	s := &stalledSet{answers: make(chan int, 128)}
	const n = 64
	for i := range n {
		// From 64 different clients, so that no per-client limit helps.
		s.stall(t, addr, fmt.Sprintf("198.51.100.%d", i+1), proof, body)
	}
	holding, answers := s.settle(t, w, n)
	t.Logf("%d hold a body slot; answers %v", holding, answers)
	if holding != 1 || answers[http.StatusForbidden] != n-1 {
		t.Errorf("one proof on %d slow bodies: %d hold a slot, answers %v; want 1 and %d refused with 403", n, holding, answers, n-1)
	}
	if code, answer := honestReport(t, f, addr, "203.0.113.9"); code != http.StatusAccepted {
		t.Fatalf("an honest report while one proof is sent on %d slow bodies: %d %s", n, code, answer)
	}
}

// TestBodiesPerClient: one client with a fresh proof for each of 64 slow
// bodies holds no more than max_concurrent_reports_per_client body slots,
// and an honest report from another client gets through.
func TestBodiesPerClient(t *testing.T) {
	f := newFixtureWith(t, slotLimits)
	f.srv.def.bodyGrace = time.Hour // slots, not the minimum rate, are under test
	logs := &testlog.Buffer{}
	f.srv.log = slog.New(slog.NewJSONHandler(logs, nil)) // read while requests are under way
	perClient := f.cfg.Relay.Limits.MaxConcurrentReportsPerClient
	w := &bodyWatch{h: f.srv, reading: make(chan struct{}, 128)}
	addr := serveHandler(t, w, f.srv.log, Timeouts{ReadHeader: time.Minute, Read: 5 * time.Minute, Write: time.Minute, Idle: time.Minute})
	_, body := f.sealed(t)
	s := &stalledSet{answers: make(chan int, 128)}
	const n = 64
	for range n {
		s.stall(t, addr, "198.51.100.7", f.proof(t, "s1"), body)
	}
	holding, answers := s.settle(t, w, n)
	t.Logf("%d hold a body slot; answers %v", holding, answers)
	if perClient < 1 || holding != perClient || answers[http.StatusTooManyRequests] != n-perClient {
		t.Errorf("one client, %d slow bodies: %d hold a slot, answers %v; want %d and the rest refused with 429",
			n, holding, answers, perClient)
	}
	if code, answer := honestReport(t, f, addr, "203.0.113.9"); code != http.StatusAccepted {
		t.Fatalf("an honest report while one client holds slow bodies: %d %s", code, answer)
	}
	for _, addr := range []string{"198.51.100", "203.0.113"} {
		if strings.Contains(logs.String(), addr) {
			t.Errorf("the logs contain a client address (%s)", addr)
		}
	}
}

// stallBody sends start (a request's head and the first bytes of its
// body) over a new connection to addr and then nothing more, and checks
// that the answer is a 408 body-timeout that names the minimum rate.
func stallBody(t *testing.T, addr, start string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The test's own limit, far below the server's read timeout.
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	io.WriteString(conn, start)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	var p struct{ Type, Detail string }
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.HasSuffix(p.Type, "/body-timeout") || !strings.Contains(p.Detail, "bytes a second") {
		t.Fatalf("stalled body: %d %+v; want 408 body-timeout naming the minimum rate", resp.StatusCode, p)
	}
}

// TestMinimumBodyRate: a body that stalls after its first byte is cut off
// once it falls below the minimum rate, long before the server's read
// timeout, with a 408 that says why.
func TestMinimumBodyRate(t *testing.T) {
	f := newFixtureWith(t, slotLimits)
	f.srv.def.bodyGrace = 100 * time.Millisecond
	w := &bodyWatch{h: f.srv, reading: make(chan struct{}, 8)}
	addr := serveHandler(t, w, f.srv.log, Timeouts{ReadHeader: time.Minute, Read: 10 * time.Minute, Write: time.Minute, Idle: time.Minute})
	_, body := f.sealed(t)
	stallBody(t, addr, fmt.Sprintf("POST /v1/sites/s1/reports/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n%s: %s\r\n\r\n",
		uuid.NewString(), len(body), HeaderProof, f.proof(t, "s1"))+string(body[:1]))
	// A body sent at once is not affected.
	if code, answer := honestReport(t, f, addr, "203.0.113.9"); code != http.StatusAccepted {
		t.Fatalf("a report sent at once: %d %s", code, answer)
	}
}

// TestFollowUpBodiesAtMinimumRate stalls the body of a hotline's reply
// post and of a reporter's mailbox fetch: each is cut off at the minimum
// body rate, as a report's is, instead of holding its connection for the
// whole read timeout (ten minutes here). A reply post's body comes before
// anything shows that it is the hotline's.
func TestFollowUpBodiesAtMinimumRate(t *testing.T) {
	f, _ := followFixture(t)
	f.srv.def.bodyGrace = 100 * time.Millisecond
	addr := serveHandler(t, f.srv, f.srv.log, Timeouts{ReadHeader: time.Minute, Read: 10 * time.Minute, Write: time.Minute, Idle: time.Minute})
	for name, head := range map[string]string{
		"reply post":    "POST /v1/hotlines/h1/replies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
		"mailbox fetch": "POST /v1/sites/s1/mailbox HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n" + HeaderProof + ": " + f.proof(t, "s1") + "\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) { stallBody(t, addr, head+"{") })
	}
}

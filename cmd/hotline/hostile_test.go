package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/rawhttp"
	"github.com/reportline/reportline/internal/testcert"
	"github.com/reportline/reportline/internal/testlog"
	"github.com/reportline/reportline/report"
)

// slowHeaders opens a connection to addr that sends half a request's
// headers and no more.
func slowHeaders(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := rawhttp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, "POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
	return c
}

// closedWithin checks that the server closes c, sending nothing, within
// a minute: its header timeout is 5 s, and the minute only bounds a
// server that would wait for ever.
func closedWithin(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	n, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("headers sent slower than the header timeout: read %d, %v; want the connection closed", n, err)
	}
}

// hostileIntake is an intake served as `hotline intake` serves it, on a
// loopback port, with what it takes to send it a genuine delivery.
type hostileIntake struct {
	addr, inbox string
	srv         *http.Server
	logs        *testlog.Buffer
	signer      delivery.Signer
	rcpts       *report.Recipients
}

func startIntake(t testing.TB, tls bool) *hostileIntake {
	t.Helper()
	dir := t.TempDir()
	id, _ := age.GenerateHybridIdentity()
	idFile := filepath.Join(dir, "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	sk, pk, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	h := &hostileIntake{inbox: filepath.Join(dir, "inbox"), logs: &testlog.Buffer{}, signer: signer, rcpts: rcpts}
	o := intakeOptions{listen: "127.0.0.1:0", identity: idFile, inbox: h.inbox, verifyKey: pk, hotline: "h1",
		path: "/v1/deliveries", tolerance: delivery.DefaultTolerance, logOut: h.logs, alarmOut: h.logs, maxConns: 16}
	if tls {
		_, o.tlsCert, o.tlsKey = testcert.NewCA(t, "hotline CA").WriteFiles(t, dir, "intake", true)
	}
	h.addr, h.srv = runIntakeFor(t, o)
	return h
}

// delivery returns a genuine delivery request for a new report.
func (h *hostileIntake) delivery(t *testing.T) string {
	t.Helper()
	return h.attempt(t, uuid.NewString(), time.Now())
}

// attempt returns a genuine delivery request for report rid, as the
// relay's attempt at time at sends it.
func (h *hostileIntake) attempt(t *testing.T, rid string, at time.Time) string {
	t.Helper()
	env, err := report.Seal(&report.Report{Version: report.Version, ID: rid, Hotline: "h1", Site: "s1",
		Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "image", Category: "csam"}, h.rcpts)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: at.UTC(),
		Data: delivery.Data{ID: rid, Hotline: "h1", Site: "s1", Received: at.UTC(), Envelope: env}})
	sig, err := h.signer.Sign(rid, at, body)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"Webhook-Id: %s\r\nWebhook-Timestamp: %d\r\nWebhook-Signature: %s\r\nConnection: close\r\n\r\n%s",
		len(body), rid, at.Unix(), sig, body)
}

// batch returns a batched delivery request of new reports, n of them,
// signed by signer as the relay signs an attempt at time at.
func (h *hostileIntake) batch(t *testing.T, n int, at time.Time, signer delivery.Signer) string {
	t.Helper()
	var ds []delivery.Data
	for range n {
		rid := uuid.NewString()
		env, err := report.Seal(&report.Report{Version: report.Version, ID: rid, Hotline: "h1", Site: "s1",
			Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "image", Category: "csam"}, h.rcpts)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, delivery.Data{ID: rid, Hotline: "h1", Site: "s1", Received: at.UTC(), Envelope: env})
	}
	body, _ := json.Marshal(delivery.Batch{Type: delivery.BatchEventType, Timestamp: at.UTC(), Data: delivery.BatchData{Deliveries: ds}})
	bid := uuid.NewString()
	sig, err := signer.Sign(bid, at, body)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"Webhook-Id: %s\r\nWebhook-Timestamp: %d\r\nWebhook-Signature: %s\r\nConnection: close\r\n\r\n%s",
		len(body), bid, at.Unix(), sig, body)
}

// TestIntakeHostileRequests sends `hotline intake`, on a real socket with
// its production settings, what a relay never sends: each is refused with
// a problem, nothing reaches the inbox, no connection goroutine is left,
// no log line names the client, and a genuine delivery is stored right
// after.
func TestIntakeHostileRequests(t *testing.T) {
	h := startIntake(t, false)
	// Once it has answered, every goroutine the intake keeps is running.
	if resp, _ := rawhttp.Send(t, h.addr, rawhttp.Request("GET", "/healthz")); resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
	baseline := runtime.NumGoroutine()
	slow := slowHeaders(t, h.addr)
	get := func(target string) string {
		return rawhttp.Request("GET", target)
	}
	post := func(target, hdr, body string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", target, hdr, len(body), body)
	}
	// Webhook headers that pass every check but the signature's, which
	// needs the body.
	current := fmt.Sprintf("Webhook-Id: x\r\nWebhook-Timestamp: %d\r\nWebhook-Signature: v1a,AAAA\r\n", time.Now().Unix())
	// A batch signed with a key the intake does not trust, and one whose
	// headers are genuine but that announces more than a batch can be.
	sk, _, _ := delivery.GenerateEd25519()
	forger, _ := delivery.NewEd25519Signer(sk)
	forged := h.batch(t, 3, time.Now(), forger)
	oversized, _, _ := strings.Cut(h.batch(t, 1, time.Now(), h.signer), "\r\n\r\n")
	oversized = regexp.MustCompile(`Content-Length: \d+`).ReplaceAllString(oversized, fmt.Sprintf("Content-Length: %d", intake.MaxBody+1)) + "\r\n\r\n"
	// Past the limit by four chunks: the intake stops reading there, and
	// the rest fits in the connection's buffers.
	chunks := intake.MaxBody/(16<<10) + 4
	tests := []struct {
		name, req string
		status    int
		ptype     string
		allow     string
	}{
		{"unknown path", get("/nope"), 404, "not-found", ""},
		{"the root", get("/"), 404, "not-found", ""},
		{"GET deliveries", get("/v1/deliveries"), 405, "method-not-allowed", "POST"},
		{"POST /healthz", post("/healthz", "", ""), 405, "method-not-allowed", "GET, HEAD"},
		{"DELETE /metrics", rawhttp.Request("DELETE", "/metrics"), 405, "method-not-allowed", "GET, HEAD"},
		{"dot-dot", get("/v1/deliveries/../healthz"), 400, "bad-path", ""},
		{"OPTIONS *", rawhttp.Request("OPTIONS", "*"), 400, "bad-path", ""},
		{"encoded dot-dot", get("/v1/%2e%2e/v1/deliveries"), 400, "bad-path", ""},
		{"double slash", post("//v1/deliveries", "Content-Type: application/json\r\n", "{}"), 400, "bad-path", ""},
		{"query on deliveries", post("/v1/deliveries?x=1", "Content-Type: application/json\r\n", "{}"), 401, "bad-signature", ""},
		{"large headers", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 20<<10) + "\r\nConnection: close\r\n\r\n", 431, "headers-too-large", ""},
		{"gzip body", post("/v1/deliveries", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n", "\x1f\x8b\x08\x00"), 415, "bad-content-encoding", ""},
		{"form body", post("/v1/deliveries", "Content-Type: application/x-www-form-urlencoded\r\n", "a=b"), 415, "bad-content-type", ""},
		{"declared a gigabyte", "POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n", 413, "too-large", ""},
		{"chunked past the limit", "POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n" + current + "\r\n" +
			strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", 16<<10, strings.Repeat("x", 16<<10)), chunks) + "0\r\n\r\n", 413, "too-large", ""},
		{"a forged batch", forged, 401, "bad-signature", ""},
		{"a batch over the limit, its body never sent", oversized, 413, "too-large", ""},
		{"unsigned", post("/v1/deliveries", "Content-Type: application/json\r\n", "{}"), 401, "bad-signature", ""},
		{"unsigned, its body never sent", "POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", 401, "bad-signature", ""},
		{"stale, its body never sent", "POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nWebhook-Id: x\r\nWebhook-Timestamp: 1\r\nWebhook-Signature: v1a,AAAA\r\nContent-Length: 1000\r\n\r\n", 401, "bad-signature", ""},
		{"stale", post("/v1/deliveries", "Content-Type: application/json\r\nWebhook-Id: x\r\nWebhook-Timestamp: 1\r\nWebhook-Signature: v1a,AAAA\r\n", "{}"), 401, "bad-signature", ""},
		{"far future", post("/v1/deliveries", "Content-Type: application/json\r\nWebhook-Id: x\r\nWebhook-Timestamp: 9999999999\r\nWebhook-Signature: v1a,AAAA\r\n", "{}"), 401, "bad-signature", ""},
		{"HTTP/1.0", "POST /v1/deliveries HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 401, "bad-signature", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawhttp.Send(t, h.addr, tt.req)
			rawhttp.ExpectRefusal(t, resp, body, tt.status, tt.ptype, tt.allow)
		})
	}
	closedWithin(t, slow)
	// A request hidden after a chunked body is not served.
	smuggled := rawhttp.Smuggled("POST", "/v1/deliveries", "Content-Type: application/json\r\n", "/healthz")
	if n, got := rawhttp.Answers(t, h.addr, smuggled); n != 1 {
		t.Errorf("%d answers, want 1: the hidden request was served:\n%s", n, got)
	}
	// Connections held open without a request, or with half of one.
	var conns []net.Conn
	for i := range 64 {
		c, err := rawhttp.Dial(h.addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			c.Write([]byte("POST /v1/deliveries HTTP/1.1\r\nHost: x\r\n"))
		}
		conns = append(conns, c)
	}
	resp, body := rawhttp.Send(t, h.addr, h.delivery(t))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"stored"`) {
		t.Fatalf("a genuine delivery beside 64 idle connections, over a bound of 16: %d %s", resp.StatusCode, body)
	}
	resp, body = rawhttp.Send(t, h.addr, h.batch(t, 2, time.Now(), h.signer))
	if resp.StatusCode != 200 || strings.Count(string(body), `"stored"`) != 2 || resp.Header.Get(delivery.BatchHeader) != strconv.Itoa(intake.BatchSize) {
		t.Fatalf("a genuine batch of 2: %d %s %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get(delivery.BatchHeader), body)
	}
	for _, c := range conns {
		c.Close()
	}
	rawhttp.WaitGoroutines(t, baseline)
	entries, _ := os.ReadDir(h.inbox)
	if len(entries) != 6 {
		t.Errorf("the inbox holds %d files, want the genuine reports' 6", len(entries))
	}
	if strings.Contains(h.logs.String(), rawhttp.Client) {
		t.Errorf("a log line names the client:\n%s", h.logs)
	}
}

// TestIntakeErrorLogNamesNoClient sends a TLS intake a handshake that
// fails: net/http logs it, and the line reaches the intake's log without
// the client's address.
func TestIntakeErrorLogNamesNoClient(t *testing.T) {
	h := startIntake(t, true)
	c, err := rawhttp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("\x16\x03\x01\x00\x05hello"))
	c.Close()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(h.logs.String(), "TLS handshake error") {
		if time.Now().After(deadline) {
			t.Fatalf("no TLS handshake error in the intake's log after a minute:\n%s", h.logs)
		}
		<-tick.C
	}
	if strings.Contains(h.logs.String(), rawhttp.Client) {
		t.Errorf("a log line names the client:\n%s", h.logs)
	}
}

// TestServeFrameHostileRequests sends `hotline serve-frame`, on a real
// socket with its production settings, requests for files outside its
// folder and what no browser sends: each is refused with a problem, no
// connection goroutine is left, and the frame is served right after.
func TestServeFrameHostileRequests(t *testing.T) {
	dir := t.TempDir()
	frameDir := filepath.Join(dir, "frame")
	os.MkdirAll(filepath.Join(frameDir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "identity.txt"), []byte("AGE-SECRET-KEY-1…"), 0o600)
	for name, text := range map[string]string{"index.html": "<!doctype html><title>frame</title>", "de.html": "<!doctype html>",
		"statement.txt": "statement", "a/boot.0123456789ab.js": "// boot"} {
		os.WriteFile(filepath.Join(frameDir, name), []byte(text), 0o644)
	}
	h, err := frameHandler(frameDir, "https://partner.example")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, ln := frameServer(h, ln, 16)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	get := func(target string) string {
		return rawhttp.Request("GET", target)
	}
	if resp, _ := rawhttp.Send(t, addr, get("/")); resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	baseline := runtime.NumGoroutine()
	slow := slowHeaders(t, addr)
	tests := []struct {
		name, req string
		status    int
		ptype     string
		allow     string
	}{
		{"no such file", get("/nope.html"), 404, "not-found", ""},
		{"a folder", get("/a/"), 404, "not-found", ""},
		{"NUL", get("/index.html%00"), 404, "not-found", ""},
		{"backslashes", get("/a/..%5c..%5cidentity.txt"), 404, "not-found", ""},
		{"double-encoded dots", get("/%252e%252e/identity.txt"), 404, "not-found", ""},
		{"dot-dot", get("/../identity.txt"), 400, "bad-path", ""},
		{"OPTIONS *", rawhttp.Request("OPTIONS", "*"), 400, "bad-path", ""},
		{"dot-dot inside", get("/a/../../identity.txt"), 400, "bad-path", ""},
		{"encoded dot-dot", get("/%2e%2e/identity.txt"), 400, "bad-path", ""},
		{"encoded slash", get("/a/..%2f..%2fidentity.txt"), 400, "bad-path", ""},
		{"double slash", get("//index.html"), 400, "bad-path", ""},
		{"POST", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 405, "method-not-allowed", "GET, HEAD"},
		{"OPTIONS", rawhttp.Request("OPTIONS", "/index.html"), 405, "method-not-allowed", "GET, HEAD"},
		{"large headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 20<<10) + "\r\nConnection: close\r\n\r\n", 431, "headers-too-large", ""},
		{"a compressed body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\nConnection: close\r\n\r\n\x1f\x8b\x08\x00", 415, "bad-content-encoding", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawhttp.Send(t, addr, tt.req)
			rawhttp.ExpectRefusal(t, resp, body, tt.status, tt.ptype, tt.allow)
			if bytes.Contains(body, []byte("AGE-SECRET-KEY")) {
				t.Error("served a file outside the folder")
			}
		})
	}
	closedWithin(t, slow)
	// Headers of a megabyte are not read into memory: net/http stops
	// at the server's limit.
	resp, _ := rawhttp.Send(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("p", 1<<20)+"\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 431 {
		t.Errorf("a megabyte of headers: status %d", resp.StatusCode)
	}
	var conns []net.Conn
	for i := range 64 {
		c, err := rawhttp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
		}
		conns = append(conns, c)
	}
	if resp, body := rawhttp.Send(t, addr, get("/?o=https://partner.example")); resp.StatusCode != 200 || !bytes.Contains(body, []byte("<title>frame")) {
		t.Fatalf("the frame beside 64 idle connections, over a bound of 16: %d %s", resp.StatusCode, body)
	}
	for _, c := range conns {
		c.Close()
	}
	rawhttp.WaitGoroutines(t, baseline)
}

// TestIntakeCutsSlowBodies sends `hotline intake` deliveries whose headers
// pass every check made before the body (a current timestamp, a signature
// entry of the right form) and whose bodies then stall: each is cut off
// with 408 body-timeout once the grace is over, instead of holding its
// connection, busy, for the read timeout of a minute. Without a key,
// anyone who reaches the intake could otherwise keep every connection it
// takes busy with a request a minute each.
func TestIntakeCutsSlowBodies(t *testing.T) {
	h := startIntake(t, false)
	head := fmt.Sprintf("POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Webhook-Id: x\r\nWebhook-Timestamp: %d\r\nWebhook-Signature: v1a,%s\r\n", time.Now().Unix(), strings.Repeat("A", 86)+"==")
	// Together, so that the test waits for one grace, not three.
	t.Run("stalled", func(t *testing.T) {
		for name, req := range map[string]string{
			"a byte of a single delivery": head + "Content-Length: 1000\r\n\r\n{",
			"a byte of a batch":           head + fmt.Sprintf("Content-Length: %d\r\n\r\n{", intake.MaxBody),
			"a chunk, then nothing":       head + "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c, err := rawhttp.Dial(h.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				// The test's own limit, beyond the intake's read timeout: a
				// stalled body must be answered before that.
				c.SetDeadline(time.Now().Add(2 * time.Minute))
				io.WriteString(c, req)
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatalf("no answer to a stalled body: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				rawhttp.ExpectProblem(t, resp, body, http.StatusRequestTimeout, "body-timeout")
				if !bytes.Contains(body, []byte("bytes a second")) {
					t.Errorf("the problem does not name the minimum rate: %s", body)
				}
			})
		}
	})
	if entries, _ := os.ReadDir(h.inbox); len(entries) != 0 {
		t.Errorf("the inbox holds %d files after stalled bodies", len(entries))
	}
	if strings.Contains(h.logs.String(), rawhttp.Client) {
		t.Errorf("a log line names the client:\n%s", h.logs)
	}
}

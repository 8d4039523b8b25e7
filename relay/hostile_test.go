package relay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/rawhttp"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/relay/mailbox"
	"github.com/reportline/reportline/report"
)

// testTimeouts are the production timeouts with the read timeout cut to a
// second, so that a slow body is cut within the test's time.
var testTimeouts = Timeouts{ReadHeader: time.Second, Read: time.Second, Write: 5 * time.Second, Idle: 5 * time.Second}

// serve runs f's relay on a real loopback listener with NewHTTPServer, as
// the command does, and returns its address.
func (f *fixture) serve(t *testing.T, tm Timeouts) string {
	t.Helper()
	return serveHandler(t, f.srv, slog.New(slog.NewJSONHandler(f.logs, nil)), tm)
}

// serveHandler serves h on a loopback listener until the test ends.
func serveHandler(t *testing.T, h http.Handler, log *slog.Logger, tm Timeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(h, tm, log)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// rawRequest is an HTTP/1.1 request written byte by byte, so that a test
// can send what no well-behaved client would.
type rawRequest struct {
	method, target string
	header         [][2]string // in order, after Host
	body           []byte
	length         string // Content-Length; "" means len(body), "-" none
	chunked        bool   // send the body chunked, without a length
	trickle        bool   // send the body a byte at a time, slower than the read timeout
	halfClose      bool   // close our side after the body
	keepAlive      bool   // send no Connection: close
}

func (r *rawRequest) set(k, v string) {
	r.del(k)
	r.header = append(r.header, [2]string{k, v})
}

func (r *rawRequest) del(k string) {
	out := r.header[:0]
	for _, kv := range r.header {
		if !strings.EqualFold(kv[0], k) {
			out = append(out, kv)
		}
	}
	r.header = out
}

// send writes r to the relay at addr, from rawhttp.Client, and reads the
// answer. The body is
// written while the answer is read, as a client that does not wait would.
func send(t *testing.T, addr string, r *rawRequest) (*http.Response, []byte) {
	t.Helper()
	conn, err := rawhttp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", r.method, r.target)
	for _, kv := range r.header {
		fmt.Fprintf(&head, "%s: %s\r\n", kv[0], kv[1])
	}
	switch {
	case r.chunked:
		head.WriteString("Transfer-Encoding: chunked\r\n")
	case r.length == "":
		fmt.Fprintf(&head, "Content-Length: %d\r\n", len(r.body))
	case r.length != "-":
		fmt.Fprintf(&head, "Content-Length: %s\r\n", r.length)
	}
	if !r.keepAlive {
		head.WriteString("Connection: close\r\n")
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		switch {
		case r.trickle:
			for i := 0; i < len(r.body) && i < 20; i++ {
				select {
				case <-done:
					return
				case <-time.After(300 * time.Millisecond):
				}
				if _, err := conn.Write(r.body[i : i+1]); err != nil {
					return
				}
			}
			return
		case r.chunked:
			for b := r.body; len(b) > 0; {
				n := min(len(b), 16<<10)
				if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", n, b[:n]); err != nil {
					return
				}
				b = b[n:]
			}
			io.WriteString(conn, "0\r\n\r\n")
		default:
			conn.Write(r.body)
		}
		if r.halfClose {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// hostileKit holds what the hostile cases are made of.
type hostileKit struct {
	f         *fixture
	envelope  []byte // a well-formed envelope for the hotline
	classic   []byte // one sealed to a classic X25519 recipient
	twoRcpts  []byte // one sealed to two recipients
	armored   []byte // the envelope in age's ASCII armor
	forged    string // a proof signed with another key
	otherSite string // a proof for another site
	expired   string // a proof whose challenge has expired
	spent     string // a proof already spent on another report
	wrongNum  string // a proof with the wrong number
	forgedV2  string // a version 2 proof signed with another key
	wrongKey  string // a version 2 proof with the key of another counter
}

func newHostileKit(t testing.TB, f *fixture) *hostileKit {
	t.Helper()
	k := &hostileKit{f: f}
	_, k.envelope = f.sealed(t)
	x, _ := age.GenerateX25519Identity()
	xr, _ := report.ParseRecipients([]string{x.Recipient().String()})
	k.classic, _ = report.Seal(&report.Report{Version: report.Version, ID: uuid.NewString()}, xr)
	other, _ := age.GenerateHybridIdentity()
	two, _ := report.ParseRecipients([]string{f.id.Recipient().String(), other.Recipient().String()})
	k.twoRcpts, _ = report.Seal(&report.Report{Version: report.Version, ID: uuid.NewString()}, two)
	var arm bytes.Buffer
	aw := armor.NewWriter(&arm)
	aw.Write(k.envelope)
	aw.Close()
	k.armored = arm.Bytes()

	solve := func(iss *pow.Issuer, site string) string {
		c, err := iss.Issue(site, 64)
		if err != nil {
			t.Fatal(err)
		}
		s, err := pow.Solve(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.Encode()
	}
	stranger, _ := pow.NewIssuer(pow.RandomKey(), time.Hour)
	k.forged = solve(stranger, "s1")
	iss := f.srv.def.issuer
	k.otherSite = solve(iss, "s2")
	iss.SetClock(func() time.Time { return time.Now().Add(-time.Hour) })
	k.expired = solve(iss, "s1")
	iss.SetClock(time.Now)
	k.spent = f.proof(t, "s1")
	p, err := iss.VerifyHeader(k.spent, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.def.replay.Redeem(p, uuid.NewString(), time.Now()); err != nil {
		t.Fatal(err)
	}
	sol, _ := pow.ParseSolution(f.proofV1(t, "s1"))
	sol.Number++
	k.wrongNum = sol.Encode()
	stranger.SetKDF(f.srv.def.issuer.KDF())
	c2, _ := stranger.IssueV2("s1", 64)
	s2, err := pow.SolveV2(&c2.Parameters, pow.DeriveKey)
	if err != nil {
		t.Fatal(err)
	}
	k.forgedV2 = (&pow.PayloadV2{Challenge: *c2, Solution: *s2}).Encode()
	var pl pow.PayloadV2
	b, _ := base64.StdEncoding.DecodeString(f.proof(t, "s1"))
	if err := json.Unmarshal(b, &pl); err != nil {
		t.Fatal(err)
	}
	key, _ := pow.DeriveKey(&pl.Challenge.Parameters, pl.Challenge.Parameters.Password(uint32(pl.Solution.Counter+1)))
	pl.Solution = pow.SolutionV2{Counter: pl.Solution.Counter + 1, DerivedKey: hex.EncodeToString(key)}
	k.wrongKey = pl.Encode()
	return k
}

// valid returns a request the relay accepts; each case spoils it.
func (k *hostileKit) valid(t *testing.T) *rawRequest {
	return &rawRequest{
		method: "POST", target: "/v1/sites/s1/reports/" + uuid.NewString(),
		header: [][2]string{
			{"Content-Type", "application/octet-stream"},
			{"Origin", k.f.cfg.Relay.PublicURL},
			{HeaderProof, k.f.proof(t, "s1")},
		},
		body: k.envelope,
	}
}

// TestHostileRequests sends malformed and hostile requests to a relay on a
// real socket, with the production server's settings (the read timeout
// shortened), and checks that each is answered with the right status and
// a problem+json of the right type, and that nothing at all is stored.
func TestHostileRequests(t *testing.T) {
	f := newFixture(t)
	addr := f.serve(t, testTimeouts)
	k := newHostileKit(t, f)
	id := uuid.NewString()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	withBody := func(b []byte) func(*rawRequest) { return func(r *rawRequest) { r.body = b } }
	withHeader := func(h, v string) func(*rawRequest) { return func(r *rawRequest) { r.set(h, v) } }
	without := func(h string) func(*rawRequest) { return func(r *rawRequest) { r.del(h) } }
	to := func(target string) func(*rawRequest) { return func(r *rawRequest) { r.target = target } }
	method := func(m string) func(*rawRequest) { return func(r *rawRequest) { r.method = m } }
	random := make([]byte, report.Buckets[0]+64)
	for i := range random {
		random[i] = byte(i*7 + 3)
	}

	tests := []struct {
		name   string
		spoil  func(r *rawRequest)
		status int
		ptype  string
	}{
		// Method and path.
		{"GET a report", method("GET"), 405, "method-not-allowed"},
		{"PUT a report", method("PUT"), 405, "method-not-allowed"},
		{"DELETE a report", method("DELETE"), 405, "method-not-allowed"},
		{"POST for a challenge", to("/v1/sites/s1/challenge"), 405, "method-not-allowed"},
		{"unknown endpoint", to("/v2/reports/" + id), 404, "not-found"},
		{"trailing slash", to("/v1/sites/s1/reports/" + id + "/"), 404, "not-found"},
		{"unknown site", to("/v1/sites/nope/reports/" + id), 404, "unknown-site"},
		{"upper-case site", to("/v1/sites/S1/reports/" + id), 404, "unknown-site"},
		{"site with a quote", to("/v1/sites/s1%22%3E/reports/" + id), 404, "unknown-site"},
		{"numeric id", to("/v1/sites/s1/reports/123"), 400, "bad-report-id"},
		{"upper-case id", to("/v1/sites/s1/reports/" + strings.ToUpper(id)), 400, "bad-report-id"},
		{"version 1 uuid", to("/v1/sites/s1/reports/6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 400, "bad-report-id"},
		{"braced uuid", to("/v1/sites/s1/reports/%7B" + id + "%7D"), 400, "bad-report-id"},
		// Origin.
		{"foreign origin", withHeader("Origin", "https://evil.example"), 403, "foreign-origin"},
		{"partner page's origin", withHeader("Origin", "https://partner.example"), 403, "foreign-origin"},
		{"null origin", withHeader("Origin", "null"), 403, "foreign-origin"},
		{"the relay's origin, then another", func(r *rawRequest) { r.header = append(r.header, [2]string{"Origin", "https://evil.example"}) }, 403, "foreign-origin"},
		{"the relay's origin twice", func(r *rawRequest) { r.header = append(r.header, [2]string{"Origin", k.f.cfg.Relay.PublicURL}) }, 403, "foreign-origin"},
		// Content type.
		{"JSON body", withHeader("Content-Type", "application/json"), 415, "bad-content-type"},
		{"no content type", without("Content-Type"), 415, "bad-content-type"},
		{"form post", withHeader("Content-Type", "application/x-www-form-urlencoded"), 415, "bad-content-type"},
		{"gzip-encoded envelope", withHeader("Content-Encoding", "gzip"), 415, "bad-content-encoding"},
		{"brotli-encoded envelope", withHeader("Content-Encoding", "br"), 415, "bad-content-encoding"},
		{"content type twice", func(r *rawRequest) {
			r.header = append(r.header, [2]string{"Content-Type", "application/octet-stream"})
		}, 415, "bad-content-type"},
		{"content type with parameters", withHeader("Content-Type", "application/octet-stream; charset=utf-8"), 415, "bad-content-type"},
		// Sizes.
		{"declared too large", func(r *rawRequest) { r.length, r.body = fmt.Sprint(report.MaxEnvelope+1), nil }, 413, "too-large"},
		{"declared 1 GB", func(r *rawRequest) { r.length, r.body = "1000000000", nil }, 413, "too-large"},
		{"chunked too large", func(r *rawRequest) { r.chunked, r.body = true, make([]byte, report.MaxEnvelope+1) }, 413, "too-large"},
		{"shorter than declared", func(r *rawRequest) { r.length, r.halfClose = fmt.Sprint(len(r.body)+100), true }, 400, "incomplete-body"},
		{"empty body", withBody(nil), 422, "bad-envelope"},
		// Bodies that are not envelopes for this hotline.
		{"garbage", withBody([]byte("hello, relay")), 422, "bad-envelope"},
		{"plaintext report", withBody([]byte(`{"version":1,"locations":[{"kind":"url","value":"https://example.com"}]}`)), 422, "bad-envelope"},
		{"random bytes of a bucket's size", withBody(random), 422, "bad-envelope"},
		{"truncated envelope", withBody(k.envelope[:len(k.envelope)-10]), 422, "bad-envelope"},
		{"header only", withBody(k.envelope[:200]), 422, "bad-envelope"},
		{"trailing bytes", withBody(append(append([]byte(nil), k.envelope...), "extra"...)), 422, "bad-envelope"},
		{"classic recipient for a PQ hotline", withBody(k.classic), 422, "bad-envelope"},
		{"two recipients, hotline has one", withBody(k.twoRcpts), 422, "bad-envelope"},
		{"ASCII-armored envelope", withBody(k.armored), 422, "bad-envelope"},
		{"chunked garbage", func(r *rawRequest) { r.chunked, r.body = true, []byte("age-encryption.org/v1\n-> nonsense\n") }, 422, "bad-envelope"},
		// Proof of work.
		{"no proof of work", without(HeaderProof), 403, "pow-required"},
		{"empty proof of work", withHeader(HeaderProof, ""), 403, "pow-required"},
		{"garbage proof of work", withHeader(HeaderProof, "solved, honest!"), 400, "pow-malformed"},
		{"proof of work not base64", withHeader(HeaderProof, `{"number":1}`), 400, "pow-malformed"},
		{"proof of work of JSON null", withHeader(HeaderProof, b64("null")), 400, "pow-malformed"},
		{"SHA-1 proof of work", withHeader(HeaderProof, b64(`{"algorithm":"SHA-1","challenge":"`+strings.Repeat("a", 64)+`","number":1,"salt":"x","signature":"`+strings.Repeat("b", 64)+`"}`)), 400, "pow-malformed"},
		{"huge proof of work", withHeader(HeaderProof, strings.Repeat("A", 4096)), 400, "pow-malformed"},
		{"two proofs of work", func(r *rawRequest) { r.header = append(r.header, [2]string{HeaderProof, k.forged}) }, 400, "pow-malformed"},
		{"forged proof of work", withHeader(HeaderProof, k.forged), 403, "pow-invalid"},
		{"wrong number", withHeader(HeaderProof, k.wrongNum), 403, "pow-invalid"},
		{"forged version 2 proof of work", withHeader(HeaderProof, k.forgedV2), 403, "pow-invalid"},
		{"version 2 key of another counter", withHeader(HeaderProof, k.wrongKey), 403, "pow-invalid"},
		{"proof of work for another site", withHeader(HeaderProof, k.otherSite), 403, "pow-invalid"},
		{"expired proof of work", withHeader(HeaderProof, k.expired), 403, "pow-expired"},
		{"replayed proof of work", withHeader(HeaderProof, k.spent), 403, "pow-used"},
		// Headers.
		{"one huge header", withHeader("X-Padding", strings.Repeat("p", 20<<10)), 431, "headers-too-large"},
		{"many headers", func(r *rawRequest) {
			for i := range 400 {
				r.header = append(r.header, [2]string{fmt.Sprintf("X-H%d", i), strings.Repeat("h", 40)})
			}
		}, 431, "headers-too-large"},
		{"huge cookie", withHeader("Cookie", "session="+strings.Repeat("c", 17<<10)), 431, "headers-too-large"},
		// Slow bodies.
		{"body slower than the read timeout", func(r *rawRequest) { r.trickle = true }, 408, "body-timeout"},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d hostile cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := k.valid(t)
			tt.spoil(r)
			resp, body := send(t, addr, r)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p struct {
				Type, Title, Detail string
				Status              int
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Type != "https://reportline.dev/problems/"+tt.ptype ||
				p.Status != tt.status || p.Title == "" || p.Detail == "" {
				t.Errorf("problem %s (%v), want type %s with a title and a detail", body, err, tt.ptype)
			}
		})
	}
	if st, err := f.sp.Stats(); err != nil || st.Pending != 0 || st.Dead != 0 {
		t.Fatalf("hostile requests stored something: %+v, %v", st, err)
	}
	// The harness itself can send a report the relay takes, so the
	// rejections above are the relay's doing, not the harness's.
	if resp, body := send(t, addr, k.valid(t)); resp.StatusCode != 202 {
		t.Fatalf("the unspoilt request: status %d: %s", resp.StatusCode, body)
	}
}

// TestNetHTTPLimits covers what net/http refuses before the relay's
// handler runs: it answers in plain text or closes, and stores nothing.
func TestNetHTTPLimits(t *testing.T) {
	f := newFixture(t)
	addr := f.serve(t, testTimeouts)
	k := newHostileKit(t, f)
	r := k.valid(t)
	r.set("X-Padding", strings.Repeat("p", 100<<10))
	if resp, _ := send(t, addr, r); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers over net/http's limit: status %d", resp.StatusCode)
	}
	r = k.valid(t)
	r.length = "12abc"
	if resp, _ := send(t, addr, r); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad Content-Length: status %d", resp.StatusCode)
	}
	// Headers slower than ReadHeaderTimeout: the connection is closed.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1/sites/s1/reports/"+uuid.NewString()+" HTTP/1.1\r\nHost: x\r\n")
	// The relay closes the connection after ReadHeaderTimeout (a second);
	// the test's own deadline, far beyond it, only bounds a relay that
	// would wait for ever.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	start := time.Now()
	if n, err := conn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("slow headers: read %d, %v after %v; want the connection closed by the relay", n, err, time.Since(start))
	}
	if st, _ := f.sp.Stats(); st.Pending != 0 {
		t.Fatalf("stored %d reports", st.Pending)
	}
}

// TestHostileRoutes sends what no client of the relay sends to every
// route but the report's (TestHostileRequests has that one): methods a
// route does not take, paths that are not canonical or walk out of a
// folder, odd ids, bodies over a route's limit or compressed. Each is
// answered with a problem of the right status and type, nothing is
// stored, no goroutine is left behind, and an honest reporter is served
// right after.
func TestHostileRoutes(t *testing.T) {
	f, _ := followFixture(t)
	addr := f.serve(t, testTimeouts)
	k := newHostileKit(t, f)
	// Once it has answered, every goroutine the relay keeps is running.
	if resp, _ := rawhttp.Send(t, addr, rawhttp.Request("GET", "/healthz")); resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
	baseline := runtime.NumGoroutine()
	req := func(method, target string, body []byte, hdr ...string) *rawRequest {
		r := &rawRequest{method: method, target: target, body: body}
		if body == nil {
			r.length = "-"
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.header = append(r.header, [2]string{hdr[i], hdr[i+1]})
		}
		return r
	}
	origin := f.cfg.Relay.PublicURL
	fetchBody := []byte(`{"mailbox":"` + strings.Repeat("a", 32) + `","key":"` + strings.Repeat("A", 43) + `"}`)
	tests := []struct {
		name   string
		r      *rawRequest
		status int
		ptype  string
		allow  string
	}{
		// Methods a route does not take.
		{"POST /healthz", req("POST", "/healthz", []byte{}), 405, "method-not-allowed", "GET, HEAD"},
		{"OPTIONS /healthz", req("OPTIONS", "/healthz", nil), 405, "method-not-allowed", "GET, HEAD"},
		{"DELETE /readyz", req("DELETE", "/readyz", nil), 405, "method-not-allowed", "GET, HEAD"},
		{"PUT /metrics", req("PUT", "/metrics", []byte{}), 405, "method-not-allowed", "GET, HEAD"},
		{"POST /embed.js", req("POST", "/embed.js", []byte{}), 405, "method-not-allowed", "GET, HEAD"},
		{"POST an asset", req("POST", "/a/wasm_exec.js", []byte{}), 405, "method-not-allowed", "GET, HEAD"},
		{"PATCH the frame", req("PATCH", "/w/s1", []byte{}), 405, "method-not-allowed", "GET, HEAD"},
		{"a method of its own", req("BREW", "/healthz", nil), 405, "method-not-allowed", "GET, HEAD"},
		{"PUT a reply", req("PUT", "/v1/hotlines/h1/replies", []byte("{}")), 405, "method-not-allowed", "POST"},
		{"GET a report", req("GET", "/v1/sites/s1/reports/"+uuid.NewString(), nil), 405, "method-not-allowed", "POST, OPTIONS"},
		{"DELETE a challenge", req("DELETE", "/v1/sites/s1/challenge", nil), 405, "method-not-allowed", "GET, HEAD, OPTIONS"},
		{"GET a mailbox", req("GET", "/v1/sites/s1/mailbox", nil), 405, "method-not-allowed", "POST, OPTIONS"},
		{"PUT the settings", req("PUT", "/v1/sites/s1/embed", []byte{}), 405, "method-not-allowed", "GET, HEAD, OPTIONS"},
		// Paths that are not canonical, or walk out of a folder.
		{"dot-dot in an asset path", req("GET", "/a/../../etc/passwd", nil), 400, "bad-path", ""},
		{"encoded slashes", req("GET", "/a/..%2f..%2fetc%2fpasswd", nil), 400, "bad-path", ""},
		{"encoded dots", req("GET", "/a/%2e%2e/%2e%2e/go.mod", nil), 400, "bad-path", ""},
		{"encoded dots, upper case", req("GET", "/a/%2E%2E/go.mod", nil), 400, "bad-path", ""},
		{"double slash", req("GET", "//healthz", nil), 400, "bad-path", ""},
		{"dot segment", req("GET", "/./healthz", nil), 400, "bad-path", ""},
		{"dot-dot out of a site", req("GET", "/v1/sites/s1/../../healthz", nil), 400, "bad-path", ""},
		{"dot-dot as the site", req("GET", "/w/%2e%2e", nil), 400, "bad-path", ""},
		{"empty site", req("GET", "/v1/sites//challenge", nil), 400, "bad-path", ""},
		{"dot-dot as the report id", req("POST", "/v1/sites/s1/reports/..", k.envelope), 400, "bad-path", ""},
		{"OPTIONS *", req("OPTIONS", "*", nil), 400, "bad-path", ""},
		{"CONNECT", req("CONNECT", "127.0.0.1:22", nil), 400, "bad-path", ""},
		{"absolute URI with dot segments", req("GET", "http://x/a/../healthz", nil), 400, "bad-path", ""},
		{"double-encoded dots", req("GET", "/a/%252e%252e%252fgo.mod", nil), 404, "not-found", ""},
		{"backslashes", req("GET", "/a/..%5c..%5cgo.mod", nil), 404, "not-found", ""},
		{"NUL in a file name", req("GET", "/a/wasm_exec.js%00", nil), 404, "not-found", ""},
		{"a folder as a file", req("GET", "/a/", nil), 404, "not-found", ""},
		// Odd site ids.
		{"unicode site", req("GET", "/w/s%C3%A9", nil), 404, "unknown-site", ""},
		{"emoji site", req("GET", "/v1/sites/%F0%9F%98%80/challenge", nil, "Origin", origin), 404, "unknown-site", ""},
		{"overlong site", req("GET", "/w/"+strings.Repeat("s", 4000), nil), 404, "unknown-site", ""},
		{"site with NUL", req("GET", "/v1/sites/s1%00/embed", nil, "Origin", "https://partner.example"), 404, "unknown-site", ""},
		{"unknown hotline", req("POST", "/v1/hotlines/h%C3%A9/replies", []byte("{}"), "Content-Type", "application/json"), 404, "unknown-hotline", ""},
		// Bodies over a route's limit, or compressed.
		{"reply over its limit", req("POST", "/v1/hotlines/h1/replies", make([]byte, maxPostBody+1), "Content-Type", "application/json"), 413, "too-large", ""},
		{"reply over its limit, declared only", func() *rawRequest {
			r := req("POST", "/v1/hotlines/h1/replies", nil, "Content-Type", "application/json")
			r.length = "1000000000"
			return r
		}(), 413, "too-large", ""},
		{"reply chunked over its limit", func() *rawRequest {
			r := req("POST", "/v1/hotlines/h1/replies", make([]byte, maxPostBody+1), "Content-Type", "application/json")
			r.chunked = true
			return r
		}(), 413, "too-large", ""},
		{"gzip reply", req("POST", "/v1/hotlines/h1/replies", gzipBomb(t), "Content-Type", "application/json", "Content-Encoding", "gzip"), 415, "bad-content-encoding", ""},
		{"gzip fetch", req("POST", "/v1/sites/s1/mailbox", gzipBomb(t), "Content-Type", "application/json", "Content-Encoding", "gzip",
			"Origin", origin, HeaderProof, f.proof(t, "s1")), 415, "bad-content-encoding", ""},
		{"two encodings", req("POST", "/v1/sites/s1/mailbox", fetchBody, "Content-Encoding", "identity", "Content-Encoding", "br",
			"Origin", origin, HeaderProof, f.proof(t, "s1")), 415, "bad-content-encoding", ""},
		{"fetch over its limit", req("POST", "/v1/sites/s1/mailbox", make([]byte, mailbox.MaxFetchBody+1), "Content-Type", "application/json",
			"Origin", origin, HeaderProof, f.proof(t, "s1")), 413, "too-large", ""},
		{"fetch chunked over its limit", func() *rawRequest {
			r := req("POST", "/v1/sites/s1/mailbox", make([]byte, mailbox.MaxFetchBody+1), "Content-Type", "application/json",
				"Origin", origin, HeaderProof, f.proof(t, "s1"))
			r.chunked = true
			return r
		}(), 413, "too-large", ""},
		// JSON no client sends.
		{"reply with trailing garbage", req("POST", "/v1/hotlines/h1/replies", []byte(`{"post":"x","envelope":"y"} {}`), "Content-Type", "application/json"), 400, "bad-post", ""},
		{"reply nested deep", req("POST", "/v1/hotlines/h1/replies", []byte(strings.Repeat("[", 20000)), "Content-Type", "application/json"), 400, "bad-post", ""},
		{"reply with a huge number", req("POST", "/v1/hotlines/h1/replies", []byte(`{"post":1e999999,"envelope":""}`), "Content-Type", "application/json"), 400, "bad-post", ""},
		{"reply with a BOM", req("POST", "/v1/hotlines/h1/replies", []byte("\xef\xbb\xbf{}"), "Content-Type", "application/json"), 400, "bad-post", ""},
		{"reply not UTF-8", req("POST", "/v1/hotlines/h1/replies", []byte("{\"post\":\"\xff\xfe\",\"envelope\":\"\"}"), "Content-Type", "application/json"), 400, "bad-post", ""},
		{"fetch with duplicate keys", req("POST", "/v1/sites/s1/mailbox", []byte(`{"mailbox":"`+strings.Repeat("a", 32)+`","mailbox":"x","key":"`+strings.Repeat("A", 43)+`"}`),
			"Content-Type", "application/json", "Origin", origin, HeaderProof, f.proof(t, "s1")), 400, "bad-fetch", ""},
		{"fetch with wrong types", req("POST", "/v1/sites/s1/mailbox", []byte(`{"mailbox":1,"key":[],"ack":"x"}`),
			"Content-Type", "application/json", "Origin", origin, HeaderProof, f.proof(t, "s1")), 400, "bad-fetch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, addr, tt.r)
			rawhttp.ExpectRefusal(t, resp, body, tt.status, tt.ptype, tt.allow)
		})
	}
	if st, err := f.sp.Stats(); err != nil || st.Pending != 0 || st.Dead != 0 {
		t.Fatalf("hostile requests stored something: %+v, %v", st, err)
	}
	// Pipelined requests are answered in order, each once.
	pipelined := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n"
	if n, got := rawhttp.Answers(t, addr, pipelined); n != 3 || !bytes.Contains(got, []byte("ready\n")) ||
		!bytes.Contains(got, []byte("method-not-allowed")) || !bytes.HasSuffix(got, []byte("ok\n")) {
		t.Errorf("pipelined requests: %d HTTP/1.1 answers (want 3, and one HTTP/1.0):\n%s", n, got)
	}
	rawhttp.WaitGoroutines(t, baseline)
	if resp, body := send(t, addr, k.valid(t)); resp.StatusCode != 202 {
		t.Fatalf("an honest report after the hostile requests: status %d: %s", resp.StatusCode, body)
	}
	rawhttp.WaitGoroutines(t, baseline)
	if bytes.Contains(f.logs.Bytes(), []byte(rawhttp.Client)) {
		t.Errorf("a log line names the client:\n%s", f.logs)
	}
}

// gzipBomb is a gzip stream of 64 MiB of zeros, about 64 KiB compressed.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSmuggledRequestNotServed sends requests with both Content-Length
// and Transfer-Encoding: chunked, and a second request hidden where the
// Content-Length says the body ends. net/http reads the body chunked, as
// RFC 9112 says; a proxy in front that went by the Content-Length would
// have forwarded the hidden request as part of the body. The relay closes
// the connection after its answer (RFC 9112, section 6.3), so the hidden
// request is never served.
func TestSmuggledRequestNotServed(t *testing.T) {
	f, _ := followFixture(t)
	addr := f.serve(t, testTimeouts)
	for name, req := range map[string]string{
		"reply":  rawhttp.Smuggled("POST", "/v1/hotlines/h1/replies", "Content-Type: application/json\r\n", "/healthz"),
		"fetch":  rawhttp.Smuggled("POST", "/v1/sites/s1/mailbox", "", "/healthz"),
		"health": rawhttp.Smuggled("GET", "/healthz", "", "/healthz"),
	} {
		t.Run(name, func(t *testing.T) {
			if n, got := rawhttp.Answers(t, addr, req); n != 1 {
				t.Fatalf("%d answers, want 1: the hidden request was served:\n%s", n, got)
			}
		})
	}
}

// TestRefusalsDoNotWaitForTheBody sends, with the production timeouts,
// requests that announce a body and never send it, on a connection the
// client would keep: each is refused at once, not after the read timeout
// (a minute) that net/http would otherwise spend reading the body to reuse
// the connection. The test's own deadline for an answer is 15 s.
func TestRefusalsDoNotWaitForTheBody(t *testing.T) {
	f, _ := followFixture(t)
	addr := f.serve(t, DefaultTimeouts)
	announce := func(method, target string, hdr ...string) *rawRequest {
		r := &rawRequest{method: method, target: target, length: "1000", keepAlive: true}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.header = append(r.header, [2]string{hdr[i], hdr[i+1]})
		}
		return r
	}
	for _, tt := range []struct {
		name   string
		r      *rawRequest
		status int
		ptype  string
	}{
		{"reply to an unknown hotline", announce("POST", "/v1/hotlines/nope/replies", "Content-Type", "application/json"), 404, "unknown-hotline"},
		{"fetch without work", announce("POST", "/v1/sites/s1/mailbox", "Content-Type", "application/json"), 403, "pow-required"},
		{"fetch for an unknown site", announce("POST", "/v1/sites/nope/mailbox"), 404, "unknown-site"},
		{"POST /healthz", announce("POST", "/healthz"), 405, "method-not-allowed"},
		{"POST to no endpoint", announce("POST", "/nope"), 404, "not-found"},
		{"report without work", announce("POST", "/v1/sites/s1/reports/"+uuid.NewString(), "Content-Type", "application/octet-stream"), 403, "pow-required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, addr, tt.r)
			rawhttp.ExpectProblem(t, resp, body, tt.status, tt.ptype)
		})
	}
}

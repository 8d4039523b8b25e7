package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// marker is typed into every test report; it must never reach the spool
// or the logs.
const marker = "PLAINTEXT-MARKER-7f3a"

type fixture struct {
	srv       *Server
	sp        *spool.Spool
	spoolPath string
	logs      *bytes.Buffer
	rcpts     *report.Recipients
	id        *age.HybridIdentity
	cfg       *config.Config
	notified  int
}

// testAbuse are the fixture's [relay.pow] and [relay.limits]: a low
// difficulty, so that tests solve in microseconds (BenchmarkSolve has the
// default's cost), and limits no test reaches by accident.
const testAbuse = `
[relay.pow]
difficulty = 64
cost = 1
v1_difficulty = 64
[relay.limits]
challenges_per_minute = 60000
challenge_burst = 10000
reports_per_minute = 60000
report_burst = 10000
`

func newFixture(t testing.TB) *fixture { return newFixtureWith(t, testAbuse) }

// fixtureConfig is the fixture's configuration: one hotline, h1, sealing
// to recipient, one site, s1, and abuse's tables.
func fixtureConfig(assets, recipient, abuse string) string {
	return fmt.Sprintf(`
[relay]
public_url = "http://127.0.0.1:8081"
spool = "x"
assets = %q
signing_key_file = "k"
[[hotline]]
id = "h1"
intake_url = "http://127.0.0.1:9/"
recipients = [%q]
categories = ["csam", "grooming"]
[[site]]
id = "s1"
hotline = "h1"
origins = ["https://partner.example"]
%s`, assets, recipient, abuse)
}

// newFixtureWith makes a relay whose configuration ends with abuse, its
// [relay.pow] and [relay.limits] tables.
func newFixtureWith(t testing.TB, abuse string) *fixture {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	id, _ := age.GenerateHybridIdentity()
	cfg, err := config.Parse([]byte(fixtureConfig(dir, id.Recipient().String(), abuse)))
	if err != nil {
		t.Fatal(err)
	}
	assets, err := LoadAssets(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cfg: cfg, id: id, logs: &bytes.Buffer{}, spoolPath: filepath.Join(dir, "spool.db")}
	f.sp, err = spool.Open(f.spoolPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.sp.Close() })
	f.rcpts = cfg.Hotline("h1").ParsedRecipients()
	f.srv = New(cfg, f.sp, assets, slog.New(slog.NewJSONHandler(f.logs, nil)), func() { f.notified++ })
	return f
}

func (f *fixture) sealed(t testing.TB) (string, []byte) {
	t.Helper()
	id := uuid.NewString()
	r := &report.Report{
		Version: report.Version, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second),
		Locale: "en", Locations: []report.Location{{Kind: "url", Value: "https://example.com/" + marker}},
		SeenOn: "website", Content: "image", Category: "csam", Description: marker,
	}
	b, err := report.Seal(r, f.rcpts)
	if err != nil {
		t.Fatal(err)
	}
	return id, b
}

func post(h http.Handler, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAcceptStoresBeforeAnswering(t *testing.T) {
	f := newFixture(t)
	id, body := f.sealed(t)
	work := f.proof(t, "s1")
	rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, "Origin", "http://127.0.0.1:8081", HeaderProof, work)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var rc Receipt
	if err := json.Unmarshal(rec.Body.Bytes(), &rc); err != nil || rc.ID != id || rc.Reference != report.Reference(id) {
		t.Fatalf("receipt %s (%v)", rec.Body, err)
	}
	e, err := f.sp.Get(id)
	if err != nil || !bytes.Equal(e.Body, body) || e.Hotline != "h1" || e.Site != "s1" {
		t.Fatalf("spool holds %+v, %v", e, err)
	}
	if f.notified != 1 {
		t.Errorf("forwarder woken %d times, want 1", f.notified)
	}
	// The same report again (a retry after a lost answer) is the same
	// receipt and is stored once, even with the same proof of work.
	rec = post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, work)
	if rec.Code != http.StatusAccepted || f.notified != 1 {
		t.Fatalf("retry: status %d, notified %d", rec.Code, f.notified)
	}
	if st, _ := f.sp.Stats(); st.Pending != 1 {
		t.Errorf("spool holds %d reports, want 1", st.Pending)
	}
	// A different report under the same id is refused.
	_, other := f.sealed(t)
	if rec = post(f.srv, "/v1/sites/s1/reports/"+id, other, HeaderProof, f.proof(t, "s1")); rec.Code != http.StatusConflict {
		t.Errorf("conflicting body: status %d", rec.Code)
	}
}

func TestRejects(t *testing.T) {
	f := newFixture(t)
	id, good := f.sealed(t)
	x, _ := age.GenerateX25519Identity()
	xr, _ := report.ParseRecipients([]string{x.Recipient().String()})
	classic, _ := report.Seal(&report.Report{Version: 1, ID: id}, xr)
	tests := []struct {
		name   string
		path   string
		body   []byte
		hdr    []string
		status int
		ptype  string
	}{
		{"unknown site", "/v1/sites/nope/reports/" + id, good, nil, 404, "unknown-site"},
		{"bad id", "/v1/sites/s1/reports/123", good, nil, 400, "bad-report-id"},
		{"upper-case id", "/v1/sites/s1/reports/" + strings.ToUpper(id), good, nil, 400, "bad-report-id"},
		{"v1 uuid", "/v1/sites/s1/reports/6ba7b810-9dad-11d1-80b4-00c04fd430c8", good, nil, 400, "bad-report-id"},
		{"foreign origin", "/v1/sites/s1/reports/" + id, good, []string{"Origin", "https://evil.example"}, 403, "foreign-origin"},
		{"partner origin", "/v1/sites/s1/reports/" + id, good, []string{"Origin", "https://partner.example"}, 403, "foreign-origin"},
		{"json body", "/v1/sites/s1/reports/" + id, good, []string{"Content-Type", "application/json"}, 415, "bad-content-type"},
		{"no content type", "/v1/sites/s1/reports/" + id, good, []string{"Content-Type", ""}, 415, "bad-content-type"},
		{"too large", "/v1/sites/s1/reports/" + id, make([]byte, report.MaxEnvelope+1), nil, 413, "too-large"},
		{"empty", "/v1/sites/s1/reports/" + id, nil, nil, 422, "bad-envelope"},
		{"garbage", "/v1/sites/s1/reports/" + id, []byte("hello"), nil, 422, "bad-envelope"},
		{"plaintext json", "/v1/sites/s1/reports/" + id, []byte(`{"version":1}`), nil, 422, "bad-envelope"},
		{"truncated", "/v1/sites/s1/reports/" + id, good[:len(good)-10], nil, 422, "bad-envelope"},
		{"classic to pq hotline", "/v1/sites/s1/reports/" + id, classic, nil, 422, "bad-envelope"},
		{"unknown path", "/v2/whatever", good, nil, 404, "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(f.srv, tt.path, tt.body, append([]string{HeaderProof, f.proof(t, "s1")}, tt.hdr...)...)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p struct{ Type, Title, Detail string }
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !strings.HasSuffix(p.Type, "/"+tt.ptype) || p.Detail == "" {
				t.Errorf("problem %s (%v), want type %s with a detail", rec.Body, err, tt.ptype)
			}
		})
	}
	if st, _ := f.sp.Stats(); st.Pending != 0 {
		t.Errorf("rejected requests stored %d reports", st.Pending)
	}
}

// TestNoClientAddressOrPlaintext runs the relay on a real loopback socket,
// connects from another loopback address, and checks that neither that
// address nor the report's plaintext reaches the logs, the spool file or
// /metrics.
func TestNoClientAddressOrPlaintext(t *testing.T) {
	f := newFixture(t)
	m := metrics.New(f.sp)
	m.ReadCommits(f.sp)
	f.srv.SetMetrics(m, m.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: f.srv, ErrorLog: ErrorLog(slog.New(slog.NewJSONHandler(f.logs, nil)))}
	go hs.Serve(ln)
	defer hs.Close()
	const clientIP = "127.0.0.2"
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(clientIP)},
	}).DialContext}}
	base := "http://" + ln.Addr().String()
	var ids []string
	for i := 0; i < 3; i++ {
		id, body := f.sealed(t)
		ids = append(ids, id)
		req, _ := http.NewRequest("POST", base+"/v1/sites/s1/reports/"+id, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(HeaderProof, f.proof(t, "s1"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Rejections and a malformed request are logged too.
	client.Post(base+"/v1/sites/nope/reports/x", "text/plain", strings.NewReader("x"))
	conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(clientIP)}}).Dial("tcp", ln.Addr().String())
	if err == nil {
		io.WriteString(conn, "GARBAGE\r\n\r\n")
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	scrape := getWith(f.srv, "GET", "/metrics").Body.String()
	if !strings.Contains(scrape, "reportline_report_accept_seconds_count 3\n") {
		t.Fatalf("/metrics lacks the three accepted reports' times; the check below would prove nothing:\n%s", scrape)
	}
	for _, secret := range append([]string{clientIP, marker}, ids...) {
		if strings.Contains(scrape, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	hs.Shutdown(context.Background())
	f.sp.Close()
	store, err := os.ReadFile(f.spoolPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.logs.String(), "report accepted") {
		t.Fatalf("logs lack the accepted lines; the check below would prove nothing:\n%s", f.logs)
	}
	for _, secret := range []string{clientIP, marker} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, f.logs)
		}
		if bytes.Contains(store, []byte(secret)) {
			t.Errorf("spool file contains %q", secret)
		}
	}
}

func TestRedactAddrs(t *testing.T) {
	for _, in := range []string{
		"http: TLS handshake error from 203.0.113.9:5123: EOF",
		"from [2001:db8::1]:443",
		"from 2001:db8::1 now",
		"from ::1",
	} {
		out := RedactAddrs(in)
		if strings.ContainsAny(strings.TrimPrefix(out, "http:"), "0123456789") && !strings.Contains(out, "[addr]") {
			t.Errorf("RedactAddrs(%q) = %q", in, out)
		}
		for _, leak := range []string{"203.0.113.9", "2001:db8", "::1"} {
			if strings.Contains(out, leak) {
				t.Errorf("RedactAddrs(%q) = %q still has %s", in, out, leak)
			}
		}
	}
}

func TestFramePage(t *testing.T) {
	f := newFixture(t)
	get := func(path string, hdr ...string) *httptest.ResponseRecorder {
		return getWith(f.srv, "GET", path, hdr...)
	}
	rec := get("/w/s1?o=https://partner.example&l=de-DE,en")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors https://partner.example", "script-src 'self' 'wasm-unsafe-eval'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	page := rec.Body.String()
	for _, want := range []string{`id="rl-form"`, `name="locations"`, `value="grooming"`, f.srv.assets.Path("widget.wasm"), `"parentOrigin":"https://partner.example"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The hotline's remit: categories it did not switch on are not offered.
	if strings.Contains(page, `value="sextortion"`) {
		t.Error("page offers a category outside the hotline's remit")
	}
	if n := strings.Count(page, `value="DE"`); n != 1 || !strings.Contains(page, `data-options-from="reporter_country"`) {
		t.Errorf("the page lists the countries %d times; want once, copied by the module", n)
	}
	if strings.Contains(strings.ToLower(page), `type="file"`) {
		t.Error("the form has a file field")
	}
	if rec := get("/w/s1?o=https://evil.example"); rec.Code != 403 {
		t.Errorf("unregistered origin: status %d", rec.Code)
	}
	if rec := get("/w/nope"); rec.Code != 404 {
		t.Errorf("unknown site: status %d", rec.Code)
	}

	wasm := f.srv.assets.Path("widget.wasm")
	rec = get(wasm, "Accept-Encoding", "gzip, deflate, br")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/wasm" || rec.Header().Get("Content-Encoding") != "br" ||
		!strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("module served as %d %v", rec.Code, rec.Header())
	}
	if rec := get(wasm, "If-None-Match", rec.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("conditional request: status %d", rec.Code)
	}
	if rec := get(wasm, "Accept-Encoding", "br;q=0, gzip"); rec.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("br;q=0 answered with %q", rec.Header().Get("Content-Encoding"))
	}
	if rec := get(wasm); rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != "\x00asm\x01\x00\x00\x00" {
		t.Errorf("identity encoding: %q %q", rec.Header().Get("Content-Encoding"), rec.Body)
	}
	rec = get("/embed.js")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("embed.js served as %d %v", rec.Code, rec.Header())
	}
	if rec := get("/a/widget.000000000000.wasm"); rec.Code != 404 {
		t.Errorf("unknown asset: status %d", rec.Code)
	}
}

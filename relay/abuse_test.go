package relay

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
)

func TestChallenge(t *testing.T) {
	f := newFixture(t)
	get := func(path string, hdr ...string) *httptest.ResponseRecorder {
		return getWith(f.srv, "GET", path, hdr...)
	}
	rec := get("/v1/sites/s1/challenge", "Origin", f.cfg.Relay.PublicURL)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("challenge: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	// ALTCHA's field names, so that ALTCHA's own widget could solve it.
	var raw map[string]any
	json.Unmarshal(rec.Body.Bytes(), &raw)
	for _, k := range []string{"algorithm", "challenge", "maxnumber", "salt", "signature"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("challenge lacks %q: %s", k, rec.Body)
		}
	}
	var c pow.Challenge
	json.Unmarshal(rec.Body.Bytes(), &c)
	exp, err := pow.ParseChallenge(&c)
	if err != nil || c.MaxNumber != 64 || time.Until(exp) < 9*time.Minute || !strings.Contains(c.Salt, "&site=s1&") {
		t.Errorf("challenge %+v expiring %v (%v)", c, exp, err)
	}
	// Version 2 when asked for, in altcha-lib 2.x's form.
	rec = get("/v1/sites/s1/challenge?protocol=2")
	var c2 pow.ChallengeV2
	if err := json.Unmarshal(rec.Body.Bytes(), &c2); rec.Code != 200 || err != nil {
		t.Fatalf("version 2 challenge: %d %s", rec.Code, rec.Body)
	}
	exp, err = pow.ParseParameters(&c2.Parameters)
	if err != nil || c2.Parameters.Data.Site != "s1" || c2.Parameters.Cost != 1 || c2.Parameters.Algorithm != pow.AlgorithmPBKDF2 || time.Until(exp) < 9*time.Minute {
		t.Errorf("version 2 challenge %+v expiring %v (%v)", c2, exp, err)
	}
	if rec := get("/v1/sites/nope/challenge"); rec.Code != 404 {
		t.Errorf("unknown site: %d", rec.Code)
	}
	if rec := get("/v1/sites/s1/challenge", "Origin", "https://evil.example"); rec.Code != 403 {
		t.Errorf("foreign origin: %d", rec.Code)
	}
}

func TestHoneypot(t *testing.T) {
	f := newFixture(t)
	id, body := f.sealed(t)
	rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1"), HeaderTrap, "1")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var rc Receipt
	if err := json.Unmarshal(rec.Body.Bytes(), &rc); err != nil || rc.ID != id || rc.Reference != report.Reference(id) ||
		rc.Received != time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("receipt %s (%v): must look like any other", rec.Body, err)
	}
	if st, _ := f.sp.Stats(); st.Pending != 0 || f.notified != 0 {
		t.Fatalf("a trapped report was stored: %+v, forwarder woken %d times", st, f.notified)
	}
	if !strings.Contains(f.logs.String(), `"reason":"honeypot"`) {
		t.Errorf("the trap is not logged by its reason:\n%s", f.logs)
	}
	// A trapped bot still needs a valid proof of work.
	if rec := post(f.srv, "/v1/sites/s1/reports/"+uuid.NewString(), body, HeaderTrap, "1"); rec.Code != http.StatusForbidden {
		t.Errorf("trap without work: status %d", rec.Code)
	}
}

// TestProofSpentOnce: a proof admits its report, and that report again,
// but never another one.
func TestProofSpentOnce(t *testing.T) {
	f := newFixture(t)
	work := f.proof(t, "s1")
	id, body := f.sealed(t)
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, work); rec.Code != 202 {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, work); rec.Code != 202 {
		t.Fatalf("retry of the same report: %d %s", rec.Code, rec.Body)
	}
	id2, body2 := f.sealed(t)
	rec := post(f.srv, "/v1/sites/s1/reports/"+id2, body2, HeaderProof, work)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "pow-used") {
		t.Fatalf("another report with the same proof: %d %s", rec.Code, rec.Body)
	}
	// A rejected envelope does not spend the proof.
	work2 := f.proof(t, "s1")
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id2, []byte("junk"), HeaderProof, work2); rec.Code != 422 {
		t.Fatalf("junk: %d", rec.Code)
	}
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id2, body2, HeaderProof, work2); rec.Code != 202 {
		t.Fatalf("the proof after a rejected body: %d %s", rec.Code, rec.Body)
	}
}

func TestRateLimits(t *testing.T) {
	f := newFixtureWith(t, `
[relay.pow]
difficulty = 64
cost = 1
v1_difficulty = 64
[relay.limits]
challenges_per_minute = 1
challenge_burst = 3
reports_per_minute = 1
report_burst = 2
`)
	var codes []int
	for range 4 {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/sites/s1/challenge", nil))
		codes = append(codes, rec.Code)
		if rec.Code == 429 {
			if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra < 1 || ra > 60 {
				t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
			}
		}
	}
	if jsonOf(codes) != "[200,200,200,429]" {
		t.Fatalf("challenges: %v", codes)
	}
	// Reports from one client: the burst, then 429, whether or not the
	// request carries work.
	_, body := f.sealed(t)
	codes = nil
	for range 3 {
		rec := post(f.srv, "/v1/sites/s1/reports/"+uuid.NewString(), body)
		codes = append(codes, rec.Code)
	}
	if jsonOf(codes) != "[403,403,429]" {
		t.Fatalf("reports: %v", codes)
	}
	rec := post(f.srv, "/v1/sites/s1/reports/"+uuid.NewString(), body)
	if rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "rate-limited") {
		t.Errorf("429 without Retry-After or type: %v %s", rec.Header(), rec.Body)
	}
	// Another client has its own allowance.
	req := httptest.NewRequest("POST", "/v1/sites/s1/reports/"+uuid.NewString(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.RemoteAddr = "198.51.100.9:4000"
	other := httptest.NewRecorder()
	f.srv.ServeHTTP(other, req)
	if other.Code != 403 {
		t.Errorf("another client: %d", other.Code)
	}
	if strings.Contains(f.logs.String(), "198.51.100.9") || strings.Contains(f.logs.String(), "192.0.2.1") {
		t.Errorf("a client address reached the logs")
	}
}

// TestGlobalCeilings: the total of reports with valid work, and the
// bodies read at once, are bounded over all clients.
func TestGlobalCeilings(t *testing.T) {
	f := newFixtureWith(t, testAbuse+"total_reports_per_minute = 6\nmax_concurrent_reports = 1\n")
	id, body := f.sealed(t)
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1")); rec.Code != 202 {
		t.Fatalf("first report: %d %s", rec.Code, rec.Body)
	}
	// The ceiling allows ten seconds' worth at once: one report.
	id, body = f.sealed(t)
	rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1"))
	if rec.Code != 429 {
		t.Fatalf("second report: %d with a ceiling of 6 a minute", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "relay-busy") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("ceiling: %v %s", rec.Header(), rec.Body)
	}
	// Requests without work do not use up the ceiling.
	f = newFixtureWith(t, testAbuse+"total_reports_per_minute = 6\nmax_concurrent_reports = 1\n")
	for range 20 {
		post(f.srv, "/v1/sites/s1/reports/"+uuid.NewString(), body)
	}
	id, body = f.sealed(t)
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1")); rec.Code != 202 {
		t.Fatalf("after a flood without work: %d %s", rec.Code, rec.Body)
	}
	// One body at a time: a second report while one is being read waits
	// its turn with a 429.
	if !f.srv.def.inflight.TryEnter() {
		t.Fatal("gate")
	}
	id, body = f.sealed(t)
	f.srv.def.total.Take() // keep the ceiling out of it
	rec = post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1"))
	f.srv.def.inflight.Leave()
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "relay-busy") {
		t.Fatalf("concurrent: %d %s", rec.Code, rec.Body)
	}
}

// TestV1Transition: during the transition a version 1 client gets its
// challenges and its reports are taken; once accept_v1_until has passed,
// every challenge is version 2 and a version 1 proof is refused, while
// version 2 goes on.
func TestV1Transition(t *testing.T) {
	f := newFixture(t)
	v1 := f.proofV1(t, "s1")
	id, body := f.sealed(t)
	if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, v1); rec.Code != 202 {
		t.Fatalf("version 1 during the transition: %d %s", rec.Code, rec.Body)
	}
	old := f.proofV1(t, "s1")
	retired := newFixtureWith(t, strings.Replace(testAbuse, "[relay.pow]\n", "[relay.pow]\naccept_v1_until = \"2020-01-01\"\n", 1))
	if retired.srv.def.issuer.AcceptsV1() {
		t.Fatal("accept_v1_until in the past: version 1 still accepted")
	}
	// The same key, so that only the date differs.
	retired.srv.def.issuer = f.srv.def.issuer
	retired.srv.def.issuer.RetireV1(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	id, body = retired.sealed(t)
	rec := post(retired.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, old)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "pow-invalid") || !strings.Contains(rec.Body.String(), "version 1") {
		t.Fatalf("version 1 after the transition: %d %s", rec.Code, rec.Body)
	}
	var c pow.ChallengeV2
	retired.challenge(t, "s1", "", &c)
	if c.Parameters.Nonce == "" || c.Signature == "" {
		t.Fatalf("challenge without ?protocol=2 after the transition is not version 2: %+v", c)
	}
	if rec := post(retired.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, retired.proof(t, "s1")); rec.Code != 202 {
		t.Fatalf("version 2 after the transition: %d %s", rec.Code, rec.Body)
	}
}

// TestDifficultyRisesUnderLoad: a burst of challenges above the level
// raises the maxnumber of the next minute's challenges.
func TestDifficultyRisesUnderLoad(t *testing.T) {
	f := newFixtureWith(t, "[relay.pow]\ndifficulty = 64\ncost = 1\nv1_difficulty = 64\nmax_difficulty = 256\nraise_above_challenges_per_minute = 5\n")
	now := time.Now()
	f.srv.def.difficulty.SetClock(func() time.Time { return now })
	for range 3 {
		f.proof(t, "s1")
		f.proofV1(t, "s1")
	}
	now = now.Add(time.Minute)
	if d := f.srv.Difficulty(); d != 128 {
		t.Fatalf("difficulty %d after a busy minute, want 128", d)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/sites/s1/challenge", nil))
	var c pow.Challenge
	if json.Unmarshal(rec.Body.Bytes(), &c); c.MaxNumber != 128 {
		t.Fatalf("challenge maxnumber %d, want 128", c.MaxNumber)
	}
	var c2 pow.ChallengeV2
	f.challenge(t, "s1", "?protocol=2", &c2)
	if sol, err := pow.SolveV2(&c2.Parameters, pow.DeriveKey); err != nil || sol.Counter > 128 {
		t.Fatalf("version 2 challenge solved at %+v (%v), beyond 128", sol, err)
	}
	now = now.Add(2 * time.Minute)
	if d := f.srv.Difficulty(); d != 64 {
		t.Fatalf("difficulty %d after calm minutes, want 64", d)
	}
}

// countingHandler counts the request body bytes the relay reads.
type countingHandler struct {
	h    http.Handler
	read atomic.Int64
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = &countingBody{r.Body, &c.read}
	c.h.ServeHTTP(w, r)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// floodLimits are the default per-client limits.
const floodLimits = `
[relay.pow]
difficulty = 64
cost = 1
v1_difficulty = 64
`

// TestFloodWithoutWork sends 2,000 reports without a proof of work, from
// one client as fast as it can, to a relay on a loopback socket with the
// default limits. Every one is refused with a 4xx problem, nothing is
// stored, and the relay reads not one byte of their bodies: the refusal
// costs header checks only. BenchmarkRejectWithoutWork measures it.
func TestFloodWithoutWork(t *testing.T) {
	f := newFixtureWith(t, floodLimits)
	counter := &countingHandler{h: f.srv}
	addr := serveHandler(t, counter, f.srv.log, DefaultTimeouts)
	_, body := f.sealed(t)
	client := &http.Client{Timeout: 30 * time.Second}
	url := "http://" + addr + "/v1/sites/s1/reports/"
	const requests = 2000
	byType := map[string]int{}
	start := time.Now()
	deadline := start.Add(2 * time.Minute)
	for i := 0; i < requests && time.Now().Before(deadline); i++ {
		req, _ := http.NewRequest("POST", url+uuid.NewString(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		var p struct{ Type string }
		json.NewDecoder(resp.Body).Decode(&p)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode > 499 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("request %d: status %d, %s", i, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		byType[strings.TrimPrefix(p.Type, "https://reportline.dev/problems/")+" "+strconv.Itoa(resp.StatusCode)]++
	}
	total := 0
	for _, n := range byType {
		total += n
	}
	if total != requests {
		t.Fatalf("%d of %d requests answered", total, requests)
	}
	t.Logf("answers: %v", byType)
	// The burst passes the rate limit and is refused for want of work; the
	// allowance refills while the flood runs (for longer on a loaded
	// machine), so a few more may pass, but never more than refilled.
	lim := f.cfg.Relay.Limits
	refilled := int(math.Ceil(time.Since(start).Minutes() * lim.ReportsPerMinute))
	if n := byType["pow-required 403"]; n < lim.ReportBurst || n > lim.ReportBurst+refilled ||
		n+byType["rate-limited 429"] != requests {
		t.Errorf("want the burst of %d (plus at most %d refilled) refused for want of work, the rest rate-limited: %v",
			lim.ReportBurst, refilled, byType)
	}
	if n := counter.read.Load(); n != 0 {
		t.Errorf("the relay read %d body bytes of reports without work", n)
	}
	if st, _ := f.sp.Stats(); st.Pending != 0 || st.Dead != 0 {
		t.Fatalf("stored %+v", st)
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestTrustedProxy: behind a trusted reverse proxy, each client named in
// X-Forwarded-For has its own allowance, and no address reaches the logs.
func TestTrustedProxy(t *testing.T) {
	f := newFixtureWith(t, "[relay.pow]\ndifficulty = 64\ncost = 1\nv1_difficulty = 64\n[relay.limits]\nreports_per_minute = 1\nreport_burst = 1\ntrusted_proxies = [\"192.0.2.1\"]\n")
	_, body := f.sealed(t)
	from := func(xff string) int {
		// httptest's requests come from 192.0.2.1, the proxy.
		return post(f.srv, "/v1/sites/s1/reports/"+uuid.NewString(), body, "X-Forwarded-For", xff).Code
	}
	got := []int{from("203.0.113.5"), from("203.0.113.5"), from("203.0.113.77"), from("6.6.6.6, 203.0.113.77")}
	if jsonOf(got) != "[403,429,403,429]" {
		t.Fatalf("codes %v: want each client limited on its own, spoofed entries ignored", got)
	}
	for _, addr := range []string{"203.0.113", "6.6.6.6", "192.0.2.1"} {
		if strings.Contains(f.logs.String(), addr) {
			t.Errorf("logs contain %s", addr)
		}
	}
}

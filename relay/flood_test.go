package relay

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// postFrom sends a report from the client at remote ("[addr]:port").
func postFrom(h http.Handler, remote, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/octet-stream")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestFloodCannotLockOutReporters: 100,000 body-less reports from as many
// IPv6 /64 networks inside two /48s, with the default limits (as many
// clients as max_clients remembers), must not keep new reporters out: each
// of 20 fresh reporters with a valid proof of work is accepted at once.
// The flooded /48s are limited as one client each.
func TestFloodCannotLockOutReporters(t *testing.T) {
	f := newFixtureWith(t, floodLimits)
	if f.cfg.Relay.Limits.MaxClients != 100_000 {
		t.Fatalf("max_clients %d: the test floods the default", f.cfg.Relay.Limits.MaxClients)
	}
	const flood = 100_000
	path := "/v1/sites/s1/reports/" + uuid.NewString()
	codes := map[int]int{}
	for i := range flood {
		remote := fmt.Sprintf("[2001:db8:%x:%x::1]:4000", 0xa000+i%2, i/2)
		codes[postFrom(f.srv, remote, path, nil).Code]++
	}
	t.Logf("flood answers: %v", codes)
	for i := range 20 {
		remote := fmt.Sprintf("198.51.100.%d:4000", i+1)
		if i%2 == 1 {
			remote = fmt.Sprintf("[2001:db8:c%03x::1]:4000", i)
		}
		id, body := f.sealed(t)
		if rec := postFrom(f.srv, remote, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1")); rec.Code != http.StatusAccepted {
			t.Fatalf("fresh reporter %d after the flood: %d %s", i, rec.Code, rec.Body)
		}
	}
	// New /64s in a flooded /48 share one allowance with the rest of it.
	// The /48's allowance started empty and refills while the flood runs
	// (more on a loaded machine), so send one more than a full burst from
	// as many new /64s: limited one by one, each /64 would get its own
	// burst and none would be refused.
	limited := 0
	for i := range f.cfg.Relay.Limits.ReportBurst + 1 {
		rec := postFrom(f.srv, fmt.Sprintf("[2001:db8:a000:f%03x::1]:4000", i), path, nil)
		if rec.Code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("%d new /64s inside a flooded /48 all passed the rate limit: the /48 should be one client now", f.cfg.Relay.Limits.ReportBurst+1)
	}
	if strings.Contains(f.logs.String(), "2001:db8") || strings.Contains(f.logs.String(), "198.51.100") {
		t.Error("a client address reached the logs")
	}
}

// TestFloodFromManyIPv4Clients: more IPv4 senders than max_clients
// remembers, each with a partly used allowance, must not keep a new
// reporter out either: the least recently seen sender is forgotten.
func TestFloodFromManyIPv4Clients(t *testing.T) {
	f := newFixtureWith(t, floodLimits+"[relay.limits]\nmax_clients = 1000\n")
	path := "/v1/sites/s1/reports/" + uuid.NewString()
	for i := range 5000 {
		postFrom(f.srv, fmt.Sprintf("10.%d.%d.%d:4000", i>>16, (i>>8)&255, i&255), path, nil)
	}
	for i := range 20 {
		id, body := f.sealed(t)
		remote := fmt.Sprintf("198.51.100.%d:4000", i+1)
		if rec := postFrom(f.srv, remote, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1")); rec.Code != http.StatusAccepted {
			t.Fatalf("fresh reporter %d after the flood: %d %s", i, rec.Code, rec.Body)
		}
	}
	if n := f.srv.def.reports.Len(); n > 1000 {
		t.Fatalf("%d clients remembered, max_clients is 1000", n)
	}
}

// TestRejectionsLogQuietly sends 300 reports without work and 300 with a
// bad id, from as many clients: each is refused, but the log gets one
// line a second of each reason, not one each, the next saying how many
// were left out. Anyone could otherwise make the relay write a line per
// request, and fill the disk under its log.
func TestRejectionsLogQuietly(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.srv.nowFunc = func() time.Time { return now }
	path := "/v1/sites/s1/reports/" + uuid.NewString()
	codes := map[int]int{}
	for i := range 300 {
		remote := fmt.Sprintf("203.0.113.%d:4000", i%250+1)
		codes[postFrom(f.srv, remote, path, nil).Code]++
		codes[postFrom(f.srv, remote, "/v1/sites/s1/reports/123", nil).Code]++
	}
	if codes[http.StatusForbidden] != 300 || codes[http.StatusBadRequest] != 300 {
		t.Fatalf("answers %v: want 300 pow-required and 300 bad-report-id", codes)
	}
	if n := strings.Count(f.logs.String(), `"report rejected"`); n != 2 {
		t.Errorf("%d log lines for 600 rejections of two reasons within a second, want 2:\n%.2000s", n, f.logs)
	}
	now = now.Add(2 * time.Second)
	postFrom(f.srv, "198.51.100.8:4000", path, nil)
	want := `"reason":"pow-required","status":403,"not_logged":299`
	if !strings.Contains(f.logs.String(), want) {
		t.Errorf("a second later, want a line with %s:\n%.2000s", want, f.logs)
	}
}

// TestChallengeRefusalsLogQuietly asks for 300 challenges for an unknown
// site and 300 from a foreign page: each is refused, and the log gets one
// line a second of each reason, as for reports.
func TestChallengeRefusalsLogQuietly(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.srv.nowFunc = func() time.Time { return now }
	codes := map[int]int{}
	for range 300 {
		codes[getWith(f.srv, "GET", "/v1/sites/nope/challenge").Code]++
		codes[getWith(f.srv, "GET", "/v1/sites/s1/challenge", "Origin", "https://evil.example").Code]++
	}
	if codes[http.StatusNotFound] != 300 || codes[http.StatusForbidden] != 300 {
		t.Fatalf("answers %v: want 300 unknown-site and 300 foreign-origin", codes)
	}
	if n := strings.Count(f.logs.String(), `"challenge refused"`); n != 2 {
		t.Errorf("%d log lines for 600 refusals of two reasons within a second, want 2:\n%.2000s", n, f.logs)
	}
	now = now.Add(2 * time.Second)
	getWith(f.srv, "GET", "/v1/sites/nope/challenge")
	if want := `"reason":"unknown-site","status":404,"not_logged":299`; !strings.Contains(f.logs.String(), want) {
		t.Errorf("a second later, want a line with %s:\n%.2000s", want, f.logs)
	}
}

// unwritable is a store whose disk is full.
type unwritable struct{ memAcceptor }

func (*unwritable) Writable() error { return errors.New("no space left on device") }

// TestNotReadyLogsQuietly asks a relay whose store cannot take a report
// for /readyz 300 times: each is answered 503, and the log says why once
// a second, not once for each of the requests anyone can send.
func TestNotReadyLogsQuietly(t *testing.T) {
	f := newFixture(t)
	logs := &bytes.Buffer{}
	now := time.Now()
	srv := New(f.cfg, &unwritable{}, f.srv.assets, slog.New(slog.NewJSONHandler(logs, nil)), func() {})
	srv.nowFunc = func() time.Time { return now }
	for range 300 {
		if rec := getWith(srv, "GET", "/readyz"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("readyz: %d %s", rec.Code, rec.Body)
		}
	}
	if n := strings.Count(logs.String(), "not ready"); n != 1 {
		t.Errorf("%d log lines for 300 requests within a second, want 1:\n%.2000s", n, logs)
	}
	now = now.Add(2 * time.Second)
	getWith(srv, "GET", "/readyz")
	if !strings.Contains(logs.String(), `"not_logged":299`) {
		t.Errorf("a second later, want a line saying 299 were not logged:\n%.2000s", logs)
	}
}

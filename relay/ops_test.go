package relay

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/metrics"
)

func getWith(h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// withTheme returns a copy of f's configuration with a theme colour for
// site s1.
func withTheme(t *testing.T, f *fixture, color string) *config.Config {
	t.Helper()
	c := *f.cfg
	c.Sites = append([]config.Site(nil), f.cfg.Sites...)
	c.Sites[0].Theme.Color = color
	return &c
}

func TestEmbedConfig(t *testing.T) {
	f := newFixture(t)
	rec := getWith(f.srv, "GET", "/v1/sites/s1/embed", "Origin", "https://partner.example")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if h.Get("Access-Control-Allow-Origin") != "https://partner.example" || h.Get("Vary") != "Origin" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	var got EmbedConfig
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Site != "s1" || got.Frame != "http://127.0.0.1:8081/w/s1" || got.Theme.Color != config.DefaultColor ||
		got.Theme.Position != config.DefaultPosition || got.Hotline.ID != "h1" || len(got.Hotline.Languages) == 0 || len(got.Locales) == 0 {
		t.Errorf("embed config %s", rec.Body)
	}
	for _, secret := range []string{"recipients", "intake", "signing", "origins"} {
		if strings.Contains(rec.Body.String(), secret) {
			t.Errorf("embed config shows %q: %s", secret, rec.Body)
		}
	}

	for _, tt := range []struct {
		name, path, origin string
		status             int
		ptype, detail      string
	}{
		{"unregistered origin", "/v1/sites/s1/embed", "https://evil.example", 403, "foreign-origin", `the origin "https://evil.example" is not registered for site "s1"; ask the relay's operator`},
		{"no origin", "/v1/sites/s1/embed", "", 403, "foreign-origin", "no Origin header"},
		{"unknown site", "/v1/sites/nope/embed", "https://partner.example", 404, "unknown-site", `no site "nope"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.origin != "" {
				hdr = []string{"Origin", tt.origin}
			}
			rec := getWith(f.srv, "GET", tt.path, hdr...)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			var p struct{ Type, Detail string }
			json.Unmarshal(rec.Body.Bytes(), &p)
			if !strings.HasSuffix(p.Type, "/"+tt.ptype) || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem %s", rec.Body)
			}
			// The page can read why, so its owner sees it in the console.
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.origin {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
		})
	}
	rec = getWith(f.srv, "OPTIONS", "/v1/sites/s1/embed", "Origin", "https://partner.example", "Access-Control-Request-Method", "GET")
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Methods") != "GET" {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
}

// TestSetConfigUnderLoad swaps configurations while requests are in
// flight: every request must be answered in full by one configuration or
// the other, never dropped or mixed.
func TestSetConfigUnderLoad(t *testing.T) {
	f := newFixture(t)
	a, b := withTheme(t, f, "#000000"), withTheme(t, f, "#1a4d8f")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, bad atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rec := getWith(f.srv, "GET", "/v1/sites/s1/embed", "Origin", "https://partner.example")
				var got EmbedConfig
				if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &got) != nil ||
					(got.Theme.Color != "#000000" && got.Theme.Color != "#1a4d8f" && got.Theme.Color != config.DefaultColor) {
					bad.Add(1)
				}
				if rec := getWith(f.srv, "GET", "/w/s1?o=https://partner.example"); rec.Code != 200 {
					bad.Add(1)
				}
				served.Add(2)
			}
		}()
	}
	for i := 0; served.Load() < 600 || i < 200; i++ {
		if i%2 == 0 {
			f.srv.SetConfig(a)
		} else {
			f.srv.SetConfig(b)
		}
	}
	f.srv.SetConfig(b)
	close(stop)
	wg.Wait()
	if bad.Load() != 0 || served.Load() == 0 {
		t.Fatalf("%d of %d requests failed during reloads", bad.Load(), served.Load())
	}
	if got := getWith(f.srv, "GET", "/v1/sites/s1/embed", "Origin", "https://partner.example"); !strings.Contains(got.Body.String(), "#1a4d8f") {
		t.Errorf("the last configuration is not in force: %s", got.Body)
	}
	f.srv.SetConfig(nil) // ignored
	if rec := getWith(f.srv, "GET", "/readyz"); rec.Code != 200 {
		t.Errorf("readyz after SetConfig(nil): %d", rec.Code)
	}
}

func TestReadyNeedsConfig(t *testing.T) {
	f := newFixture(t)
	f.srv.cfg.Store(nil)
	if rec := getWith(f.srv, "GET", "/readyz"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "no configuration") {
		t.Errorf("readyz without config: %d %s", rec.Code, rec.Body)
	}
	f.srv.SetConfig(f.cfg)
	if rec := getWith(f.srv, "GET", "/readyz"); rec.Code != 200 {
		t.Errorf("readyz: %d %s", rec.Code, rec.Body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := newFixture(t)
	if rec := getWith(f.srv, "GET", "/metrics"); rec.Code != 404 {
		t.Errorf("/metrics without a handler: %d", rec.Code)
	}
	p := metrics.New(f.sp)
	p.ReadCommits(f.sp)
	f.srv.SetMetrics(p, p.Handler())
	post(f.srv, "/v1/sites/nope/reports/x", []byte("x"))
	rec := getWith(f.srv, "GET", "/metrics")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `reportline_reports_rejected_total{reason="unknown-site"} 1`) ||
		!strings.Contains(rec.Body.String(), "reportline_spool_pending 0") {
		t.Errorf("/metrics: %d\n%s", rec.Code, rec.Body)
	}
	// A refusal is not timed; nothing was committed.
	expectMetrics(t, rec.Body.String(), map[string]func(float64) bool{
		"reportline_report_accept_seconds_count": func(v float64) bool { return v == 0 },
		"reportline_spool_commits_total":         func(v float64) bool { return v == 0 },
	})

	// An accepted report is timed, its durable write included: its one
	// commit took no longer than the time observed.
	id, body := f.sealed(t)
	send := func() {
		t.Helper()
		if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, f.proof(t, "s1")); rec.Code != 202 {
			t.Fatalf("report: %d %s", rec.Code, rec.Body)
		}
	}
	send()
	out := getWith(f.srv, "GET", "/metrics").Body.String()
	commit := f.sp.Commits()
	expectMetrics(t, out, map[string]func(float64) bool{
		"reportline_report_accept_seconds_count":             func(v float64) bool { return v == 1 },
		"reportline_report_accept_seconds_sum":               func(v float64) bool { return v >= commit.Time.Seconds() && v < 60 },
		`reportline_report_accept_seconds_bucket{le="+Inf"}`: func(v float64) bool { return v == 1 },
		"reportline_spool_commits_total":                     func(v float64) bool { return v == 1 && commit.N == 1 },
		"reportline_spool_commit_seconds_total":              func(v float64) bool { return v > 0 },
		`reportline_reports_accepted_total{hotline="h1"}`:    func(v float64) bool { return v == 1 },
	})
	// The same report sent again is answered from the store, not timed.
	send()
	out = getWith(f.srv, "GET", "/metrics").Body.String()
	expectMetrics(t, out, map[string]func(float64) bool{
		"reportline_report_accept_seconds_count": func(v float64) bool { return v == 1 },
	})
	if strings.Contains(out, id) {
		t.Errorf("/metrics names the report id")
	}
}

// expectMetrics checks the value of each series in a scrape.
func expectMetrics(t *testing.T, out string, want map[string]func(float64) bool) {
	t.Helper()
	for series, ok := range want {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("/metrics lacks %s", series)
			continue
		}
		if v, err := strconv.ParseFloat(m[1], 64); err != nil || !ok(v) {
			t.Errorf("%s = %s, not as expected", series, m[1])
		}
	}
}

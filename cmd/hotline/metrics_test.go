package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/rawhttp"
)

// The intake's /metrics counts stored reports, duplicates, batches,
// refusals by problem and the flushes that made reports durable, in a format a
// Prometheus scraper reads: every sample belongs to a declared counter.
func TestIntakeMetrics(t *testing.T) {
	h := startIntake(t, false)
	rid, now := uuid.NewString(), time.Now()
	for _, try := range []struct {
		what, req string
		status    int
	}{
		{"a signed delivery", h.attempt(t, rid, now), 200},
		{"the same report again, a later attempt", h.attempt(t, rid, now.Add(time.Second)), 200},
		{"a batch of two", h.batch(t, 2, now, h.signer), 200},
		{"an unsigned delivery", "POST /v1/deliveries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", http.StatusUnauthorized},
	} {
		if resp, body := rawhttp.Send(t, h.addr, try.req); resp.StatusCode != try.status {
			t.Fatalf("%s: %d %s, want %d", try.what, resp.StatusCode, body, try.status)
		}
	}
	resp, b := rawhttp.Send(t, h.addr, rawhttp.Request("GET", "/metrics"))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	text := string(b)
	for _, want := range []string{
		"reportline_intake_reports_stored_total 3\n",
		"reportline_intake_duplicate_deliveries_total 1\n",
		"reportline_intake_batches_total 1\n",
		`reportline_intake_deliveries_refused_total{problem="bad-signature"} 1` + "\n",
		"reportline_intake_alarms_total 0\n",
		"reportline_intake_flush_failures_total 0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, text)
		}
	}
	if m := regexp.MustCompile(`(?m)^reportline_intake_flushes_total ([1-9]\d*)$`).FindStringSubmatch(text); m == nil {
		t.Errorf("/metrics counts no flush after a report was stored:\n%s", text)
	}
	if m := regexp.MustCompile(`(?m)^reportline_intake_flush_seconds_total (\d+(\.\d+)?(e-\d+)?)$`).FindStringSubmatch(text); m == nil || m[1] == "0" {
		t.Errorf("/metrics has no time for the flushes made:\n%s", text)
	}
	// Every sample follows the TYPE line of its metric.
	declared := map[string]bool{}
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			declared[f[2]] = true
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		if !declared[name] {
			t.Errorf("sample %q has no TYPE line before it", line)
		}
	}
	// docs/deployment.md, where an operator looks for them, names each.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range declared {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/deployment.md does not name the intake's metric %s", name)
		}
	}
}

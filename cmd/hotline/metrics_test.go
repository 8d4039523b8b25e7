package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/report"
)

// The intake's /metrics counts stored reports, duplicates, refusals by
// problem and the flushes that made reports durable, in a format a
// Prometheus scraper reads: every sample belongs to a declared counter.
func TestIntakeMetrics(t *testing.T) {
	dir := t.TempDir()
	id, _ := age.GenerateHybridIdentity()
	idFile := filepath.Join(dir, "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	secret, _ := delivery.GenerateHMACSecret()
	secretFile := filepath.Join(dir, "h1.whsec")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	o := intakeOptions{listen: "127.0.0.1:0", identity: idFile, inbox: filepath.Join(dir, "inbox"), verifyKeyFile: secretFile,
		hotline: "h1", path: "/v1/deliveries", tolerance: delivery.DefaultTolerance, logOut: io.Discard}
	addr, _ := runIntakeFor(t, o)
	base := "http://" + addr

	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	rid := uuid.NewString()
	env, err := report.Seal(&report.Report{Version: report.Version, ID: rid, Hotline: "h1", Site: "s1",
		Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "image", Category: "csam"}, rcpts)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := delivery.NewHMACSigner(secret)
	post := func(signed bool, ts time.Time) int {
		t.Helper()
		body, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: ts.UTC(),
			Data: delivery.Data{ID: rid, Hotline: "h1", Site: "s1", Received: time.Now().UTC(), Envelope: env}})
		req, _ := http.NewRequest("POST", base+"/v1/deliveries", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if signed {
			if err := delivery.SetHeaders(req.Header, signer, rid, ts, body); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now()
	if code := post(true, now); code != 200 {
		t.Fatalf("a signed delivery: %d", code)
	}
	if code := post(true, now.Add(time.Second)); code != 200 {
		t.Fatalf("the same report again: %d", code)
	}
	if code := post(false, now); code != http.StatusUnauthorized {
		t.Fatalf("an unsigned delivery: %d", code)
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		"reportline_intake_reports_stored_total 1\n",
		"reportline_intake_duplicate_deliveries_total 1\n",
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
}

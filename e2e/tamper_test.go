package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
)

// TestIntakeDetectsATamperedRelay: reports sealed as a relay whose
// configuration or code was changed would have them sealed (a recipient
// added, the hotline's key swapped for another, a report passed off as
// another site's) reach the intake, which refuses each (not 2xx), raises
// an alarm (an error log line, its counter, a message in its output) and
// stores nothing; nothing is lost: each stays at the relay, where `relay
// spool ls` shows it.
func TestIntakeDetectsATamperedRelay(t *testing.T) {
	s := startStack(t)
	hotline, err := os.ReadFile(s.HotlineIdentity)
	if err != nil {
		t.Fatal(err)
	}
	ours := regexp.MustCompile(`age1pq1[0-9a-z]+`).FindString(string(hotline))
	var ids []string
	// The relay as configured; the report claims another site.
	ids = append(ids, postSealed(t, s, []string{ours}, "another-site"))
	// The relay's statement re-signed with a recipient added.
	ids = append(ids, postSealed(t, s, tamperRelayConfig(t, s, true), "demo-site"))
	// The relay's statement re-signed with another key in the hotline's place.
	ids = append(ids, postSealed(t, s, tamperRelayConfig(t, s, false), "demo-site"))

	// Wait for the intake to say it refused each: the relay delivers each
	// at once and retries it after a second.
	intakeLog := waitFor(t, deliveryLimit, "the intake's alarm for each report", func() ([]byte, bool) {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.RelayLogPath), "intake.log"))
		for _, id := range ids {
			if !bytes.Contains(b, []byte("hotline: ALARM: report "+id)) {
				return b, false
			}
		}
		return b, true
	})
	metrics := strings.TrimSuffix(s.Intake, "/v1/deliveries") + "/metrics"
	if n := alarms(t, metrics); n < len(ids) {
		t.Errorf("the intake's alarm counter is %d, want at least %d", n, len(ids))
	}
	for i, want := range []string{"differs from the site", "sealed to 2 recipients, the hotline has 1", "does not open with the hotline's identity"} {
		for _, line := range []string{"hotline: ALARM: report " + ids[i], `"level":"ERROR","msg":"ALARM: delivery refused`, want} {
			if !bytes.Contains(intakeLog, []byte(line)) {
				t.Errorf("report %s: the intake's output lacks %q:\n%s", ids[i], line, intakeLog)
			}
		}
	}
	for _, name := range inboxFiles(t, s) {
		t.Errorf("the inbox holds %s", name)
	}
	// Nothing is lost: the relay still holds every report, and says why.
	if err := s.StopRelay(false); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(build(t).bin, "relay"), "spool", "ls", "-config", s.RelayConfig).CombinedOutput()
	if err != nil {
		t.Fatalf("relay spool ls: %v\n%s", err, out)
	}
	for _, id := range ids {
		if !bytes.Contains(out, []byte(id)) {
			t.Errorf("relay spool ls does not list %s:\n%s", id, out)
		}
	}
	if !bytes.Contains(out, []byte("intake answered 422")) {
		t.Errorf("relay spool ls does not show the intake's refusal:\n%s", out)
	}
}

// postSealed seals a report for site to recipients, as a form given those
// recipients would, and posts it to the relay with a proof of work. It
// returns the report's id.
func postSealed(t *testing.T, s *stack.Stack, recipients []string, site string) string {
	t.Helper()
	rc, err := report.ParseRecipients(recipients)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	r := &report.Report{Version: 1, ID: id, Hotline: "demo-hotline", Site: site, Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/tampered"}}, SeenOn: "website", Content: "video", Category: "csam"}
	env, err := report.Seal(r, rc)
	if err != nil {
		t.Fatal(err)
	}
	proof := solveProof(t, s.RelayURL+"/v1/sites/demo-site")
	req, _ := http.NewRequest("POST", s.RelayURL+"/v1/sites/demo-site/reports/"+id, bytes.NewReader(env))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(pow.Header, proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("the relay did not take the report: %d %s", resp.StatusCode, body)
	}
	return id
}

// alarms reads the intake's alarm counter.
func alarms(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^reportline_intake_alarms_total (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no alarm counter in the intake's metrics:\n%s", b)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

package intake

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/report"
)

// sealed makes a delivery body for a report of the given category whose
// reporter answered urgent.
func (f *fixture) sealed(t *testing.T, id, category, urgent string) []byte {
	t.Helper()
	r := &report.Report{Version: 1, Minor: report.Minor, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second),
		Locale: "en", Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website",
		Content: "image", Category: category, Urgent: urgent}
	env, err := report.Seal(r, f.rcpts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: time.Now().UTC(), Data: delivery.Data{
		ID: id, Hotline: "h1", Site: "s1", Received: time.Now().UTC(), Envelope: env}})
	return b
}

// TestUrgentReportFolder: an urgent report goes to the urgent folder with
// a warning in the log and a count; a second delivery of it is a
// duplicate; a report that is not urgent stays in the inbox. Both carry
// their shared labels.
func TestUrgentReportFolder(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.in.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	const urgentID, plainID = "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-aaaaaaaaaaaa"
	for _, d := range []struct{ id, category, urgent string }{{urgentID, "sextortion", "yes"}, {plainID, "csam", "unsure"}, {urgentID, "sextortion", "yes"}} {
		body := f.sealed(t, d.id, d.category, d.urgent)
		if rec := f.deliver(t, d.id, body, time.Now(), f.signer); rec.Code != 200 {
			t.Fatalf("delivery of %s: %d %s", d.id, rec.Code, rec.Body)
		}
	}
	urgentDir := filepath.Join(f.inbox, UrgentDir)
	if got, want := files(t, urgentDir), []string{urgentID + ".age", urgentID + ".json"}; !slices.Equal(got, want) {
		t.Errorf("the urgent folder holds %v, want %v", got, want)
	}
	if got := files(t, f.inbox); slices.Contains(got, urgentID+".json") || !slices.Contains(got, plainID+".json") {
		t.Errorf("the inbox holds %v, want the report that is not urgent and not the urgent one", got)
	}
	if n := f.in.UrgentReports(); n != 1 {
		t.Errorf("UrgentReports = %d, want 1 (the second delivery was a duplicate)", n)
	}
	var warned int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "URGENT") && strings.Contains(line, urgentID) {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings name the urgent report, want 1:\n%s", warned, logs.String())
	}
	for _, c := range []struct {
		path   string
		urgent bool
		label  string
	}{{filepath.Join(urgentDir, urgentID+".json"), true, "Investigative: Sextortion"}, {filepath.Join(f.inbox, plainID+".json"), false, "Categorisation: Child sexual abuse material"}} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		var o Opened
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		if o.Urgent != c.urgent || o.Labels == nil || !slices.Contains(o.Labels.UCS, c.label) {
			t.Errorf("%s: urgent %v, labels %+v; want urgent %v and the label %q", c.path, o.Urgent, o.Labels, c.urgent, c.label)
		}
	}
}

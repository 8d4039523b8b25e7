package intake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/report"
)

// TestFlagsHiddenCharacters: a report whose text holds escape sequences,
// bidi overrides or zero-width characters is stored, and its .json names
// the fields that hold them, and the intake counts it; a line feed in the
// description is not flagged.
func TestFlagsHiddenCharacters(t *testing.T) {
	f := newFixture(t)
	r := &report.Report{Version: 1, ID: rid, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}, {Kind: "other", Value: "user\x1b[8mhidden"}},
		SeenOn:    "website", Content: "video", Category: "csam", Description: "two\nlines", Details: "gpj.\u202eexe",
		Contact: &report.Contact{Name: "a\u200bb"}}
	env, err := report.Seal(r, f.rcpts)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: time.Now(), Data: delivery.Data{
		ID: rid, Hotline: "h1", Site: "s1", Received: time.Now().UTC(), Envelope: env}})
	if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b, err := os.ReadFile(filepath.Join(f.inbox, rid+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var o Opened
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if want := []string{"locations[1].value", "details", "contact.name"}; !slices.Equal(o.HiddenCharacters, want) {
		t.Errorf("hidden_characters %q, want %q", o.HiddenCharacters, want)
	}
	if n := f.in.HiddenReports(); n != 1 {
		t.Errorf("HiddenReports() = %d, want 1", n)
	}

	// A clean report is not flagged and not counted.
	if rec := f.deliver(t, rid2, f.payload(t, rid2), time.Now(), f.signer); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b, _ = os.ReadFile(filepath.Join(f.inbox, rid2+".json"))
	o = Opened{}
	if err := json.Unmarshal(b, &o); err != nil || o.HiddenCharacters != nil || len(o.Problems) != 0 {
		t.Errorf("a clean report: %s (%v)", b, err)
	}
	if n := f.in.HiddenReports(); n != 1 {
		t.Errorf("HiddenReports() = %d after a clean report, want 1", n)
	}
}

const rid2 = "7c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"

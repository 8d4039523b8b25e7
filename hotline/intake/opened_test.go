package intake

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/reportline/reportline/report"
)

// The .json the intake writes is what json.MarshalIndent wrote before it:
// the same bytes, whatever the report and the intake's own members hold.
func TestMarshalOpened(t *testing.T) {
	tricky := "a \"quoted\" {b}, [c]: \\ </script> & \u2028 \x01 «ü» 🙂 \xff end\\"
	full := &report.Report{Version: 1, Minor: 1, ID: rid, Hotline: "h1", Site: tricky,
		Created:   time.Date(2026, 11, 26, 11, 59, 30, 5, time.FixedZone("", 2*3600)),
		Locale:    "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/a?b=[1]&c={2}"}, {Kind: "other", Value: tricky}},
		SeenOn:    "website", Content: "image", Category: "csam", Urgent: "yes", AIMade: "no",
		Description: tricky, Details: "\n\t", ReporterUnder18: true,
		Contact:  &report.Contact{Name: tricky, WantsOutcome: true},
		FollowUp: &report.FollowUp{Mailbox: "m", Check: "c", ReplyTo: "r"},
	}
	empty := &report.Report{Locations: []report.Location{}, Contact: &report.Contact{}}
	at := time.Date(2026, 12, 2, 4, 5, 6, 0, time.UTC)
	for name, o := range map[string]*Opened{
		"full": {ID: rid, Reference: report.Reference(rid), Site: tricky, Received: at.Add(123456789), Delivered: at,
			Problems: []string{`locations: "x" is not a URL`, tricky}, HiddenCharacters: []string{"description"}, Urgent: true,
			Labels: &report.Labels{UCS: []string{"a", "b"}, Incident: "i", Annotations: []string{"x"}, Priority: true}, Report: full},
		"plain":        {ID: rid, Reference: report.Reference(rid), Site: "s1", Received: at, Delivered: at, Labels: &report.Labels{UCS: []string{}}, Report: empty},
		"nil members":  {Labels: &report.Labels{}, Problems: []string{}},
		"zero":         {},
		"empty report": {Report: &report.Report{}},
	} {
		got, err := marshalOpened(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := json.MarshalIndent(o, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want = append(want, '\n'); !bytes.Equal(got, want) {
			t.Errorf("%s: wrote\n%s\nencoding/json writes\n%s", name, got, want)
		}
	}
}

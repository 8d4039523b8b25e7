package formstate

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/reportline/reportline/report"
)

func TestRetry(t *testing.T) {
	const p = "https://reportline.dev/problems/"
	for _, tt := range []struct {
		status     int
		ptype      string
		retryAfter string
		want       time.Duration
	}{
		{403, p + "pow-expired", "", 0},
		{409, p + "pow-used", "", 0},
		{403, p + "pow-invalid", "", 0},
		{403, p + "pow-required", "", NoRetry},
		{429, p + "rate-limited", "5", 5 * time.Second},
		{503, p + "busy", "30", 30 * time.Second},
		{503, p + "busy", "31", NoRetry},
		{429, p + "rate-limited", "", NoRetry},
		{429, p + "rate-limited", "soon", NoRetry},
		{400, p + "malformed", "5", NoRetry},
		{500, "", "", NoRetry},
		{502, "", "1", NoRetry},
	} {
		if got := Retry(tt.status, tt.ptype, tt.retryAfter); got != tt.want {
			t.Errorf("Retry(%d, %q, %q) = %v, want %v", tt.status, tt.ptype, tt.retryAfter, got, tt.want)
		}
	}
}

func TestLocationProblem(t *testing.T) {
	reported := Reported{}
	reported.Add([]report.Location{{Kind: "url", Value: "https://sent.example/a"}})
	for _, tt := range []struct {
		value string
		above []string
		want  string
	}{
		{"", []string{""}, ""},
		{"https://example.com/x", nil, ""},
		{"https://example.com/x", []string{"https://example.com/y"}, ""},
		{"https://example.com/x", []string{"https://EXAMPLE.com/x"}, KeyDuplicate},
		{"https://sent.example/a", nil, KeyAlreadyReported},
		{"https://sent.example/a", []string{"https://sent.example/a"}, KeyAlreadyReported},
	} {
		if got := LocationProblem(tt.value, tt.above, reported); got != tt.want {
			t.Errorf("LocationProblem(%q, %q) = %q, want %q", tt.value, tt.above, got, tt.want)
		}
	}
	if n := report.NormalizeLocation("https://EXAMPLE.com/x"); n != report.NormalizeLocation("https://example.com/x") {
		t.Fatalf("the duplicate case above assumes hosts compare without case; NormalizeLocation gives %q", n)
	}
}

func TestReportedErrors(t *testing.T) {
	reported := Reported{}
	locs := []report.Location{{Kind: "url", Value: "https://a.example/"}, {Kind: "url", Value: "https://b.example/"}}
	if errs := reported.Errors(locs); len(errs) != 0 {
		t.Fatalf("nothing sent yet, errors %v", errs)
	}
	reported.Add(locs[1:])
	want := []report.FieldError{{Field: "locations", Index: 1, Code: "already_reported"}}
	if errs := reported.Errors(locs); !slices.Equal(errs, want) {
		t.Errorf("Errors = %v, want %v", errs, want)
	}
}

func TestArgs(t *testing.T) {
	date := func(day string) string { return "the " + day }
	if got := Args("", date); got != nil {
		t.Errorf("Args of nothing = %q", got)
	}
	attr := "n=2;date=2026-11-26"
	want := []string{"n", "2", "date", "the 2026-11-26"}
	if got := Args(attr, date); !slices.Equal(got, want) {
		t.Errorf("Args(%q) = %q, want %q", attr, got, want)
	}
	// A value holding "=" keeps it.
	if got := Args("detail=a=b", date); !slices.Equal(got, []string{"detail", "a=b"}) {
		t.Errorf("Args = %q", got)
	}
}

func TestCheck(t *testing.T) {
	f := report.DefaultForm()
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	r := &report.Report{Version: report.Version, ID: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", Hotline: "h1", Site: "s1",
		Created: now, Locale: "en", Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}},
		SeenOn: "website", Content: "image", Category: "csam"}
	if errs, err := Check(f, r, Reported{}, now); err != nil || len(errs) != 0 {
		t.Fatalf("a valid report: %v, %v", errs, err)
	}
	reported := Reported{}
	reported.Add(r.Locations)
	r.SeenOn = ""
	errs, err := Check(f, r, reported, now)
	want := []report.FieldError{{Field: "seen_on", Index: -1, Code: report.CodeRequired}, {Field: "locations", Index: 0, Code: "already_reported"}}
	if err != nil || !slices.Equal(errs, want) {
		t.Errorf("Check = %v, %v; want %v", errs, err, want)
	}
}

func TestHidden(t *testing.T) {
	f := &report.Form{Fields: []report.Field{
		{Name: "category"},
		{Name: "asked_to_meet", ShowWhen: &report.Condition{Field: "category", Values: []string{"grooming"}}},
		{Name: "where", ShowWhen: &report.Condition{Field: "asked_to_meet", Values: []string{"yes"}}},
		{Name: "description"},
	}}
	values := map[string]string{}
	value := func(name string) string { return values[name] }
	for _, tt := range []struct {
		category, met string
		want          map[string]bool
	}{
		{"csam", "", map[string]bool{"asked_to_meet": true, "where": true}},
		{"grooming", "no", map[string]bool{"asked_to_meet": false, "where": true}},
		{"grooming", "yes", map[string]bool{"asked_to_meet": false, "where": false}},
		// An answer left in a hidden question does not show what hangs on it.
		{"csam", "yes", map[string]bool{"asked_to_meet": true, "where": true}},
	} {
		values["category"], values["asked_to_meet"] = tt.category, tt.met
		if got := Hidden(f, value); !maps.Equal(got, tt.want) {
			t.Errorf("category %s, asked to meet %q: hidden %v, want %v", tt.category, tt.met, got, tt.want)
		}
	}
}

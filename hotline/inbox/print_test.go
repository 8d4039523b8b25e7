package inbox

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/report"
)

// hostile holds text that takes over a terminal when printed raw: an OSC 52
// clipboard write, cursor moves that draw a fake line, a conceal code, a
// carriage return, a C1 control sequence introducer, a right-to-left
// override and a zero-width space.
var hostile = []string{
	"\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07",
	"\x1b[2A\x1b[2K  1. [url] https://harmless.example/\x1b[1B",
	"\x1b[8mhttps://real.example/hidden\x1b[0m",
	"over\rwritten",
	"\u009b31m",
	"gpj.\u202eexe",
	"zero\u200bwidth",
}

// fillStrings sets every string field of v (a pointer to a struct),
// following pointers and slices, to a distinct hostile value and returns
// the values it set.
func fillStrings(t *testing.T, v reflect.Value, n *int) []string {
	var set []string
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return fillStrings(t, v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() || v.Field(i).Type() == reflect.TypeFor[time.Time]() {
				continue
			}
			set = append(set, fillStrings(t, v.Field(i), n)...)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		}
		for i := range v.Len() {
			set = append(set, fillStrings(t, v.Index(i), n)...)
		}
	case reflect.String:
		s := hostile[*n%len(hostile)] + "<" + strconv.Itoa(*n) + ">"
		*n++
		v.SetString(s)
		set = append(set, s)
	}
	return set
}

// TestPrintEscapesControls: whatever a report holds, in any field, what
// `hotline open` prints holds no control, bidi or invisible character, and
// each field's text is still there, visibly escaped.
func TestPrintEscapesControls(t *testing.T) {
	r := &report.Report{Version: 1, Created: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	var n int
	set := fillStrings(t, reflect.ValueOf(r), &n)
	var b strings.Builder
	Print(&b, &intake.Opened{Site: "s1", Report: r})
	out := b.String()
	for i, c := range out {
		if c == utf8.RuneError || (c < 0x20 && c != '\n') || (c >= 0x7f && c < 0xa0) ||
			(c >= 0x2000 && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) {
			t.Fatalf("output holds %U at byte %d:\n%q", c, i, out)
		}
	}
	for _, want := range []string{`\x1b]52;c;`, `\x07`, `\x1b[8mhttps://real.example/hidden`, `over\rwritten`, `\u009b31m`, `gpj.\u202eexe`, `zero\u200bwidth`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// Every field is printed: its marker (<n> at the end) is there.
	for _, s := range set {
		if marker := s[strings.LastIndex(s, "<"):]; !strings.Contains(out, marker) {
			t.Errorf("output lacks the field that was set to %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "hidden or control characters") {
		t.Errorf("output does not warn of the escaped characters:\n%s", out)
	}
}

// TestPrintSignedSite: the site printed is the one the relay signed in
// the delivery; a different one claimed inside the report is shown as a
// claim, never in its place.
func TestPrintSignedSite(t *testing.T) {
	r := &report.Report{Version: 1, Site: "trusted-news", Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}}
	var b strings.Builder
	Print(&b, &intake.Opened{Site: "partner-a", Report: r})
	out := b.String()
	if !strings.Contains(out, "Site       partner-a (signed by the relay)") || !strings.Contains(out, `the report claims "trusted-news"`) {
		t.Errorf("output:\n%s", out)
	}
	b.Reset()
	Print(&b, &intake.Opened{Report: r})
	if out := b.String(); !strings.Contains(out, "trusted-news (claimed in the report, not verified)") {
		t.Errorf("output of a report without the relay's metadata:\n%s", out)
	}
}

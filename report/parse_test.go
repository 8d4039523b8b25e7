package report

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// full is a report with every member set, and strings that need escapes.
func full() *Report {
	r := sample()
	r.Minor = Minor
	r.Urgent, r.AIMade, r.LiveNow, r.Threatened, r.StillInContact = "yes", "no", "unsure", "yes", "no"
	r.AskedToMeet, r.MovedApp, r.ImagesExchanged, r.ReporterInImages = "yes", "no", "unsure", "no"
	r.Description = "line one\nline \"two\"\t<b>&</b> \\ \x01 \u2028 «ünïcode» 🙂"
	r.Details, r.ReporterCountry, r.IncidentCountry = "user @x/y", "NL", "DE"
	r.ReporterUnder18 = true
	r.Contact = &Contact{Name: "Ana", Email: "ana@example.org", Phone: "+31 6", WantsOutcome: true}
	r.FollowUp = &FollowUp{Mailbox: "0123456789abcdef0123456789abcdef", Check: "abc_-", ReplyTo: "age1pq1xyz"}
	r.InReplyTo = "0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012"
	return r
}

// The reports Marshal writes, padded or not, take the fast way and come
// out as they went in: were they left to encoding/json, Parse would be
// as slow as before, and nothing else would tell.
func TestParseCanonicalTakesMarshalled(t *testing.T) {
	empty := &Report{Version: Version, Locations: []Location{}, Contact: &Contact{}, FollowUp: &FollowUp{}}
	for name, r := range map[string]*Report{"sample": sample(), "full": full(), "empty members": empty} {
		b, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		padded, err := Pad(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range [][]byte{b, padded, append(bytes.Clone(b), " \t\r\n"...)} {
			got, ok := parseCanonical(in)
			if !ok {
				t.Fatalf("%s: %q left to encoding/json", name, in[:min(len(in), 80)])
			}
			if !reflect.DeepEqual(got, r) {
				t.Fatalf("%s: parsed\n%+v\nwant\n%+v", name, got, r)
			}
			agreesWithStrict(t, in)
		}
	}
}

// What Marshal does not write is left to encoding/json, and Parse still
// reads it, or refuses it, as encoding/json does.
func TestParseCanonicalLeavesTheRest(t *testing.T) {
	good, _ := Marshal(full())
	s := string(good)
	for name, in := range map[string]string{
		"space inside":       strings.Replace(s, `"id":`, `"id": `, 1),
		"members reordered":  strings.Replace(s, `"version":1,"minor":1,`, `"minor":1,"version":1,`, 1),
		"member twice":       strings.Replace(s, `"version":1,`, `"version":1,"version":1,`, 1),
		"key in capitals":    strings.Replace(s, `"hotline":`, `"HOTLINE":`, 1),
		"escaped key":        strings.Replace(s, `"site":`, `"\u0073ite":`, 1),
		"unknown member":     strings.Replace(s, `"version":1,`, `"version":1,"ip":"x",`, 1),
		"invalid UTF-8":      strings.Replace(s, `"Ana"`, "\"A\xffa\"", 1),
		"escaped surrogates": strings.Replace(s, `"Ana"`, `"\ud83d\ude42"`, 1),
		"lone surrogate":     strings.Replace(s, `"Ana"`, `"\ud83d"`, 1),
		"null contact":       strings.Replace(s, `"contact":{"name":"Ana","email":"ana@example.org","phone":"+31 6","wants_outcome":true}`, `"contact":null`, 1),
		"false":              strings.Replace(s, `"reporter_under_18":true`, `"reporter_under_18":false`, 1),
		"version 1.0":        strings.Replace(s, `"version":1`, `"version":1.0`, 1),
		"version 01":         strings.Replace(s, `"version":1`, `"version":01`, 1),
		"negative minor":     strings.Replace(s, `"minor":1`, `"minor":-1`, 1),
		"trailing data":      s + "{}",
		"trailing comma":     strings.TrimSuffix(s, "}") + ",}",
		"control character":  strings.Replace(s, `"Ana"`, "\"A\x01a\"", 1),
		"bad escape":         strings.Replace(s, `"Ana"`, `"A\qa"`, 1),
		"short escape":       strings.Replace(s, `"Ana"`, `"A\u12"`, 1),
		"escaped time":       strings.Replace(s, `"2026-11-26T11:59:30Z"`, `"2026-11-26T11:59:30\u005a"`, 1),
		"leading space":      " " + s,
		"cut short":          s[:len(s)-1],
	} {
		if _, ok := parseCanonical([]byte(in)); ok {
			t.Errorf("%s: taken the fast way", name)
		}
		agreesWithStrict(t, []byte(in))
	}
}

// agreesWithStrict fails t unless Parse gives for b what encoding/json
// does: the same report, or an error.
func agreesWithStrict(t *testing.T, b []byte) {
	t.Helper()
	got, err := Parse(b)
	want, werr := parseStrict(b)
	if werr == nil && (want.Version != Version || want.Minor < 0 || want.Minor > Minor) {
		want, werr = nil, ErrMalformed
	}
	if (err == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%q) = %+v, %v; encoding/json: %+v, %v", b, got, err, want, werr)
	}
}

// FuzzParseCanonical checks the fast decoding of a report against
// encoding/json: whatever it accepts, encoding/json decodes to the same
// report.
func FuzzParseCanonical(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseCanonical(b)
		if !ok {
			return
		}
		slow, err := parseStrict(b)
		if err != nil {
			t.Fatalf("took %q, which encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) || !fast.Created.Equal(slow.Created) {
			t.Fatalf("decoded %q as\n%+v\nencoding/json as\n%+v", b, fast, slow)
		}
	})
}

// BenchmarkParse is what the intake spends on a padded report's JSON.
func BenchmarkParse(b *testing.B) {
	m, _ := Marshal(full())
	padded, _ := Pad(m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(padded); err != nil {
			b.Fatal(err)
		}
	}
}

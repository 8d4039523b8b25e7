package intake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/termsafe"
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

// HiddenCharacters names what the walk it replaced named, for a hidden
// character, a line feed or a tab in each string of a report in turn.
func TestHiddenCharactersEachMember(t *testing.T) {
	base := func() *report.Report {
		return &report.Report{Version: 1, ID: rid, Hotline: "h1", Site: "s1", Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}, {Kind: "other", Value: "x"}},
			SeenOn:    "website", Content: "video", Category: "csam", Description: "d", Details: "d",
			Contact: &report.Contact{Name: "n", Email: "e"}, FollowUp: &report.FollowUp{Mailbox: "m"}}
	}
	var strs int
	countStrings(reflect.ValueOf(base()), func(reflect.Value) { strs++ })
	for i := range strs {
		for _, odd := range []string{"a\x1b[8mb", "a\u202eb", "a\u200bb", "two\nlines", "a\tb", "plain"} {
			r := base()
			k := 0
			countStrings(reflect.ValueOf(r), func(v reflect.Value) {
				if k == i {
					v.SetString(odd)
				}
				k++
			})
			got, want := HiddenCharacters(r), hiddenByWalk(r)
			if !slices.Equal(got, want) {
				t.Errorf("string %d set to %q: %q, the walk names %q", i, odd, got, want)
			}
		}
	}
	r := base()
	r.Description, r.Locations[1].Value = "a\x1bb", "\u200b"
	if got, want := HiddenCharacters(r), []string{"locations[1].value", "description"}; !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// countStrings calls f with each settable string below v, in field order.
func countStrings(v reflect.Value, f func(reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			countStrings(v.Elem(), f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				countStrings(v.Field(i), f)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			countStrings(v.Index(i), f)
		}
	case reflect.String:
		f(v)
	}
}

// hiddenByWalk is how HiddenCharacters named the fields before it kept
// the names of each type's fields: the reference it is held to.
func hiddenByWalk(r *report.Report) []string {
	var out []string
	var walk func(v reflect.Value, name string)
	walk = func(v reflect.Value, name string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), name)
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
				if tag == "" || tag == "-" {
					continue
				}
				if name != "" {
					tag = name + "." + tag
				}
				walk(v.Field(i), tag)
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), name+"["+strconv.Itoa(i)+"]")
			}
		case reflect.String:
			s := v.String()
			if multiLine[name] && termsafe.CleanText(s) || !multiLine[name] && termsafe.Clean(s) {
				return
			}
			out = append(out, name)
		}
	}
	walk(reflect.ValueOf(r), "")
	return out
}

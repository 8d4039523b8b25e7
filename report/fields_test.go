package report

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleValue is a valid value for a field of the default form, as a
// browser's form data holds it.
func sampleValue(t *testing.T, fd *Field) string {
	t.Helper()
	switch fd.Kind {
	case KindChoice, KindYesNo, KindCountry:
		return fd.Options[len(fd.Options)/2]
	case KindDate:
		return "2026-01-02"
	case KindText:
		return "text of " + fd.Name + "\non two lines"
	case KindLine:
		return "line of " + fd.Name
	case KindEmail:
		return fd.Name + "@example.org"
	case KindCheck:
		return "yes"
	case KindNote:
		return ""
	}
	t.Fatalf("field %s: no sample value for kind %d; add one here", fd.Name, fd.Kind)
	return ""
}

// invalidValues are values a field must refuse, each with the code it
// must give; none for a checkbox, for which every value the form can send
// is valid.
func invalidValues(fd *Field) map[string]string {
	bad := map[string]string{}
	if fd.MaxLen > 0 && fd.Kind != KindLocations {
		bad[strings.Repeat("x", fd.MaxLen+1)] = CodeTooLong
	}
	switch fd.Kind {
	case KindChoice, KindYesNo, KindCountry:
		bad["not_an_option"] = CodeUnknownOption
	case KindDate:
		bad["2026-13-45"] = CodeInvalidDate
	case KindEmail:
		bad["not an email"] = CodeInvalidEmail
	}
	return bad
}

// sampleReport is the report a browser builds from v.
func sampleReport(f *Form, v Values) *Report {
	r, _ := FromValues(f, v, true)
	r.ID, r.Hotline, r.Site, r.Locale = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", "h1", "s1", "en"
	r.Created = sampleTime
	return r
}

// sampleTime is when the sample report is made and checked.
var sampleTime = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

// sampleValues are a complete, valid form: every field of f set, with the
// category one for which the grooming questions show.
func sampleValues(t *testing.T, f *Form) Values {
	v := Values{"locations": {"https://example.com/x"}}
	for i := range f.Fields {
		fd := &f.Fields[i]
		if fd.Kind != KindLocations {
			v[fd.Name] = []string{sampleValue(t, fd)}
		}
	}
	v["category"] = []string{GroomingCategories[0]}
	return v
}

// sampleValuesFor are sampleValues with the answers that show fd, and
// the questions it depends on, where it has a condition.
func sampleValuesFor(t *testing.T, f *Form, fd *Field) Values {
	v := sampleValues(t, f)
	for c := fd.ShowWhen; c != nil; {
		v[c.Field] = []string{c.Values[0]}
		dep := f.Field(c.Field)
		c = dep.ShowWhen
	}
	return v
}

// TestEveryFieldRoundTrips holds the one field list, DefaultForm().Fields,
// to every place a field's name is written: a field that FromValues does
// not read, that validation does not see (fieldValue), or that Marshal or
// Parse drops, fails here.
func TestEveryFieldRoundTrips(t *testing.T) {
	f := DefaultForm()
	for _, fd := range f.Fields {
		if fd.Kind == KindNote {
			continue
		}
		v := sampleValuesFor(t, f, &fd)
		r := sampleReport(f, v)
		if err := Validate(f, r, sampleTime); err != nil {
			t.Fatalf("the sample report for %s does not validate: %v", fd.Name, err)
		}
		b, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(r)): %v\n%s", err, b)
		}
		if fd.Kind == KindLocations {
			if len(parsed.Locations) != 1 || parsed.Locations[0].Value != v["locations"][0] {
				t.Errorf("locations: %v after the round trip", parsed.Locations)
			}
			continue
		}
		want := v[fd.Name][0]
		if got := fieldValue(fd.Name, r); got != want {
			t.Errorf("%s: %q from the form's values, want %q: FromValues or fieldValue misses it", fd.Name, got, want)
		}
		if got := fieldValue(fd.Name, parsed); got != want {
			t.Errorf("%s: %q after Marshal and Parse, want %q: the encoding misses it", fd.Name, got, want)
		}
	}
}

// TestEveryFieldValidated: for each field, a value it must refuse is
// refused, and the error names that field.
func TestEveryFieldValidated(t *testing.T) {
	f := DefaultForm()
	for _, fd := range f.Fields {
		for bad, code := range invalidValues(&fd) {
			v := sampleValuesFor(t, f, &fd)
			v[fd.Name] = []string{bad}
			err := Validate(f, sampleReport(f, v), sampleTime)
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != fd.Name || ve.Errors[0].Code != code {
				t.Errorf("%s = %.40q: got %v, want one %s error on %s", fd.Name, bad, err, code, fd.Name)
			}
		}
	}
}

// TestEveryReportFieldOnTheForm: each answer a report can carry (its JSON
// keys, less identity, time, routing and follow-up) is a field of the
// form, so that none is encoded without being asked for and checked.
func TestEveryReportFieldOnTheForm(t *testing.T) {
	f := DefaultForm()
	notAnswers := map[string]bool{"version": true, "minor": true, "id": true, "hotline": true, "site": true,
		"created": true, "locale": true, "contact": true, "follow_up": true, "in_reply_to": true}
	check := func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" || (prefix == "" && notAnswers[name]) {
				continue
			}
			if f.Field(prefix+name) == nil {
				t.Errorf("the report's %s%s is not a field of DefaultForm", prefix, name)
			}
		}
	}
	check(reflect.TypeFor[Report](), "")
	check(reflect.TypeFor[Contact](), "contact_")
}

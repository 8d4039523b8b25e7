package report

import "strings"

// Values are a form's values by field name, as a browser's FormData or
// url.Values holds them.
type Values map[string][]string

func (v Values) get(name string) string {
	if len(v[name]) == 0 {
		return ""
	}
	return strings.TrimSpace(v[name][0])
}

// FromValues builds the reporter's part of a report from the form's values:
// locations, choices, date, description and, if withContact, the contact
// fields. Empty location rows are skipped; rows maps each location of the
// result to the row it was typed in, so errors land on the right input.
// Identity, time and routing fields are the caller's to set.
func FromValues(f *Form, v Values, withContact bool) (r *Report, rows []int) {
	r = &Report{Version: Version, Minor: Minor}
	for i, typed := range v["locations"] {
		if strings.TrimSpace(typed) == "" {
			continue
		}
		loc, code := ClassifyLocation(typed)
		if code != "" {
			// Keep what was typed, so Validate reports the same code.
			loc = Location{Kind: "other", Value: typed}
		}
		r.Locations = append(r.Locations, loc)
		rows = append(rows, i)
	}
	// In form order, so that a question whose condition depends on an
	// earlier answer sees that answer already settled.
	for _, fd := range f.Fields {
		p := r.text(fd.Name)
		if p == nil || fd.ShowWhen != nil && !fd.ShowWhen.Holds(fieldValue(fd.ShowWhen.Field, r)) {
			continue
		}
		*p = v.get(fd.Name)
		if fd.Kind == KindText {
			*p = text(*p)
		}
	}
	r.ReporterUnder18 = v.get("reporter_under_18") == "yes"
	if withContact {
		c := &Contact{Name: v.get("contact_name"), Email: v.get("contact_email"), Phone: v.get("contact_phone"),
			WantsOutcome: v.get("contact_wants_outcome") == "yes"}
		if *c != (Contact{}) {
			r.Contact = c
		}
	}
	return r, rows
}

// text normalizes line ends and trims a multi-line answer.
func text(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

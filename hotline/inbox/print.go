// Package inbox reads what a hotline keeps in its inbox: the .json file the
// intake writes for each report it opened; and it prints a report for a
// person to read.
package inbox

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/hotline/termsafe"
	"github.com/reportline/reportline/report"
)

// ReadOpened reads an inbox .json file.
func ReadOpened(b []byte) (*intake.Opened, error) {
	var o intake.Opened
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("failed to read report: %w", err)
	}
	if o.Report == nil {
		return nil, fmt.Errorf("failed to read report: no report in the file")
	}
	return &o, nil
}

// Print writes a report for a person to read, labels in English.
// Every value from the report passes through termsafe: anyone can seal a
// report to the hotline's key, and raw text could drive the terminal. The
// site printed is the one the relay signed (o.Site); the report's own
// claim is shown beside it only when it differs, or alone, marked as not
// verified, when the relay's metadata is not at hand (an .age file).
func Print(w io.Writer, o *intake.Opened) {
	r := o.Report
	cat, _ := report.LoadCatalog("en")
	esc := termsafe.Escape
	opt := func(field, v string) string {
		if v == "" {
			return "-"
		}
		label, ok := cat["option."+field+"."+v]
		if !ok {
			return esc(v)
		}
		return label + " (" + v + ")"
	}
	text := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s\n  %s\n", label, strings.ReplaceAll(termsafe.EscapeText(v), "\n", "\n  "))
		}
	}
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-10s %s\n", label, esc(v))
		}
	}
	if !reportClean(r) {
		fmt.Fprintf(w, "Warning    this report holds hidden or control characters, shown escaped (\\x1b, \\u202e, …):\n"+
			"           read each address as printed before you open it\n")
	}
	if r.IsUrgent() {
		fmt.Fprintf(w, "URGENT     the reporter says a child is in danger right now, or that they are being threatened\n")
	}
	fmt.Fprintf(w, "Report     %s\n", report.Reference(r.ID))
	fmt.Fprintf(w, "ID         %s\n", esc(r.ID))
	fmt.Fprintf(w, "Created    %s\n", r.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "Hotline    %s   Language %s\n", esc(r.Hotline), esc(r.Locale))
	switch {
	case o.Site == "":
		fmt.Fprintf(w, "Site       %s (claimed in the report, not verified)\n", esc(r.Site))
	case o.Site == r.Site:
		fmt.Fprintf(w, "Site       %s (signed by the relay)\n", esc(o.Site))
	default:
		fmt.Fprintf(w, "Site       %s (signed by the relay); the report claims \"%s\"\n", esc(o.Site), esc(r.Site))
	}
	if r.InReplyTo != "" {
		fmt.Fprintf(w, "Answer to  %s (the reporter's answer to your question; ID %s)\n", report.Reference(r.InReplyTo), esc(r.InReplyTo))
	}
	fmt.Fprintf(w, "Locations\n")
	for i, l := range r.Locations {
		fmt.Fprintf(w, "  %d. [%s] %s\n", i+1, esc(l.Kind), esc(l.Value))
	}
	fmt.Fprintf(w, "Seen on    %s\n", opt("seen_on", r.SeenOn))
	fmt.Fprintf(w, "Content    %s\n", opt("content", r.Content))
	fmt.Fprintf(w, "Category   %s\n", opt("category", r.Category))
	for _, a := range r.Answers() {
		fmt.Fprintf(w, "  %s %s\n", cat.T("field."+a.Field+".label"), opt("yesno", a.Value))
	}
	if l := report.Classify(r); len(l.UCS) > 0 || l.Incident != "" {
		fmt.Fprintf(w, "Labels     %s\n", strings.Join(l.UCS, "; "))
		if l.Incident != "" || len(l.Annotations) > 0 {
			fmt.Fprintf(w, "NCMEC      %s\n", strings.Join(append([]string{l.Incident}, l.Annotations...), "; "))
		}
	}
	line("Seen date", r.SeenDate)
	line("Reporter", countryLine(r.ReporterCountry, r.ReporterUnder18))
	line("Incident", countryLine(r.IncidentCountry, false))
	text("Details", r.Details)
	text("Description", r.Description)
	if c := r.Contact; c != nil {
		fmt.Fprintf(w, "Contact    name \"%s\", email \"%s\", phone \"%s\", wants outcome: %v\n", esc(c.Name), esc(c.Email), esc(c.Phone), c.WantsOutcome)
	} else {
		fmt.Fprintf(w, "Contact    anonymous\n")
	}
	if f := r.FollowUp; f != nil {
		fmt.Fprintf(w, "Follow-up  asked for: answer with `hotline reply -kind question|acknowledgement|outcome|closed %s`\n", esc(r.ID))
		fmt.Fprintf(w, "           mailbox %s, check %s\n           reply key %s\n", esc(f.Mailbox), esc(f.Check), esc(f.ReplyTo))
	}
	for _, p := range o.Problems {
		fmt.Fprintf(w, "Problem    %s\n", esc(p))
	}
}

func countryLine(country string, under18 bool) string {
	var parts []string
	if country != "" {
		parts = append(parts, "country "+country)
	}
	if under18 {
		parts = append(parts, "under 18")
	}
	return strings.Join(parts, ", ")
}

// reportClean reports whether no field of r needs escaping.
func reportClean(r *report.Report) bool {
	return len(intake.HiddenCharacters(r)) == 0
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/server/intake"
)

// parseOpened reads an inbox .json file.
func parseOpened(b []byte) (*report.Report, error) {
	var o intake.Opened
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("failed to read report: %w", err)
	}
	if o.Report == nil {
		return nil, fmt.Errorf("failed to read report: no report in the file")
	}
	return o.Report, nil
}

// printReport writes a report for a person to read, labels in English.
func printReport(w io.Writer, r *report.Report) {
	cat, _ := report.LoadCatalog("en")
	opt := func(field, v string) string {
		if v == "" {
			return "-"
		}
		return cat.T("option."+field+"."+v) + " (" + v + ")"
	}
	fmt.Fprintf(w, "Report     %s\n", report.Reference(r.ID))
	fmt.Fprintf(w, "ID         %s\n", r.ID)
	fmt.Fprintf(w, "Created    %s\n", r.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "Hotline    %s   Site %s   Language %s\n", r.Hotline, r.Site, r.Locale)
	fmt.Fprintf(w, "Locations\n")
	for i, l := range r.Locations {
		fmt.Fprintf(w, "  %d. [%s] %s\n", i+1, l.Kind, l.Value)
	}
	fmt.Fprintf(w, "Seen on    %s\n", opt("seen_on", r.SeenOn))
	fmt.Fprintf(w, "Content    %s\n", opt("content", r.Content))
	fmt.Fprintf(w, "Category   %s\n", opt("category", r.Category))
	if r.SeenDate != "" {
		fmt.Fprintf(w, "Seen date  %s\n", r.SeenDate)
	}
	if r.Description != "" {
		fmt.Fprintf(w, "Description\n  %s\n", strings.ReplaceAll(r.Description, "\n", "\n  "))
	}
	if c := r.Contact; c != nil {
		fmt.Fprintf(w, "Contact    name %q, email %q, phone %q, wants outcome: %v\n", c.Name, c.Email, c.Phone, c.WantsOutcome)
	} else {
		fmt.Fprintf(w, "Contact    anonymous\n")
	}
}

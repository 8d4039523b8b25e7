package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/hotline/inbox"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/report"
)

// writeInbox lays out an inbox as the intake does: an urgent report in
// the urgent folder, one in the inbox whose text starts like a
// spreadsheet formula, and an envelope that did not open.
func writeInbox(t *testing.T) (dir string, urgent, plain *intake.Opened) {
	t.Helper()
	dir = t.TempDir()
	mk := func(id string, received time.Time, r *report.Report) *intake.Opened {
		r.Version, r.Minor, r.ID, r.Hotline, r.Site, r.Locale = 1, report.Minor, id, "h1", "s1", "en"
		r.Created = received
		r.Locations = []report.Location{{Kind: "url", Value: "https://example.com/" + id[:4]}, {Kind: "other", Value: "=HYPERLINK(\"x\")"}}
		return &intake.Opened{ID: id, Reference: report.Reference(id), Site: "s1", Received: received, Delivered: received, Report: r}
	}
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	// The older report is the urgent one, so the order is by time, not folder.
	urgent = mk("aaaaaaaa-0000-4000-8000-000000000001", t0, &report.Report{SeenOn: "messaging_app", Content: "image",
		Category: "sextortion", Urgent: "yes", Threatened: "yes", ReporterInImages: "yes"})
	urgent.Urgent, urgent.Labels = true, report.Classify(urgent.Report)
	plain = mk("bbbbbbbb-0000-4000-8000-000000000002", t0.Add(time.Hour), &report.Report{SeenOn: "website", Content: "video",
		Category: "csam", Description: "-1+1 looks like a formula\nand has two lines"})
	// plain was stored before the intake wrote labels: export classifies it.
	for _, w := range []struct {
		dir string
		o   *intake.Opened
	}{{filepath.Join(dir, intake.UrgentDir), urgent}, {dir, plain}} {
		os.MkdirAll(w.dir, 0o700)
		b, _ := json.Marshal(w.o)
		os.WriteFile(filepath.Join(w.dir, w.o.ID+".json"), b, 0o600)
		os.WriteFile(filepath.Join(w.dir, w.o.ID+".age"), []byte("age"), 0o600)
	}
	os.WriteFile(filepath.Join(dir, "cccccccc-0000-4000-8000-000000000003.age"), []byte("age"), 0o600)
	return dir, urgent, plain
}

func TestExportCSV(t *testing.T) {
	dir, urgent, plain := writeInbox(t)
	out, errOut, code := run(t, "export", "-inbox", dir, "-format", "csv")
	if code != 0 {
		t.Fatalf("export: code %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "1 envelope(s) did not open") || !strings.Contains(errOut, "cccccccc") {
		t.Errorf("stderr %q, want a word about the envelope that did not open", errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, out)
	}
	if len(rows) != 3 || !slices.Equal(rows[0], inbox.CSVHeader()) {
		t.Fatalf("%d rows, header %v; want the header and two reports", len(rows), rows[0])
	}
	// A spreadsheet or a CSV reader finds a column by its name.
	for i, name := range rows[0] {
		if j := slices.Index(rows[0], name); j != i {
			t.Errorf("columns %d and %d are both named %q", j+1, i+1, name)
		}
	}
	col := func(row []string, name string) string { return row[slices.Index(rows[0], name)] }
	u, p := rows[1], rows[2]
	for _, c := range []struct {
		row        []string
		name, want string
	}{
		{u, "id", urgent.ID}, {u, "urgent_report", "true"}, {u, "urgent", "yes"}, {u, "threatened", "yes"}, {u, "reporter_in_images", "yes"},
		{u, "ncmec_incident_type", "Online Enticement of Children for Sexual Acts"},
		{u, "ncmec_escalate_to_high_priority", "true"},
		{p, "id", plain.ID}, {p, "urgent_report", "false"}, {p, "urgent", ""}, {p, "category", "csam"},
		{p, "ucs_labels", "Categorisation: Child sexual abuse material"},
		{p, "description", "'-1+1 looks like a formula\nand has two lines"},
		{p, "locations", "https://example.com/bbbb\n=HYPERLINK(\"x\")"},
	} {
		if got := col(c.row, c.name); got != c.want {
			t.Errorf("report %s, %s = %q, want %q", col(c.row, "id"), c.name, got, c.want)
		}
	}
	if !strings.Contains(col(u, "ucs_labels"), "Investigative: Sextortion\n") {
		t.Errorf("ucs_labels of the urgent report = %q", col(u, "ucs_labels"))
	}
}

func TestExportJSONLToFile(t *testing.T) {
	dir, urgent, plain := writeInbox(t)
	file := filepath.Join(t.TempDir(), "inbox.jsonl")
	if _, errOut, code := run(t, "export", "-inbox", dir, "-format", "jsonl", "-o", file); code != 0 {
		t.Fatalf("export: code %d: %s", code, errOut)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []intake.Opened
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o intake.Opened
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d: %v", len(got)+1, err)
		}
		got = append(got, o)
	}
	if len(got) != 2 || got[0].ID != urgent.ID || got[1].ID != plain.ID {
		t.Fatalf("%d lines, want the two reports, oldest first", len(got))
	}
	if !got[0].Urgent || got[1].Urgent || got[1].Labels == nil || got[1].Labels.Incident == "" || got[1].Report.Description != plain.Report.Description {
		t.Errorf("lines: %+v / %+v", got[0], got[1])
	}
}

func TestExportErrors(t *testing.T) {
	dir, _, _ := writeInbox(t)
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "-inbox", dir, "-format", "xlsx"}, "hint: use -format csv or -format jsonl"},
		{[]string{"export", "-inbox", dir}, "broken.json"},
		{[]string{"export", "-inbox", filepath.Join(dir, "missing")}, "failed to read the inbox"},
	} {
		if out, errOut, code := run(t, tt.args...); code == 0 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("hotline %v: code %d, stdout %d bytes, stderr %q; want a failure naming %q and nothing written", tt.args, code, len(out), errOut, tt.want)
		}
	}
}

// TestOpenSaysUrgent: hotline open puts URGENT first for an urgent report,
// and shows the answers and labels.
func TestOpenSaysUrgent(t *testing.T) {
	dir, urgent, plain := writeInbox(t)
	out, errOut, code := run(t, "open", filepath.Join(dir, intake.UrgentDir, urgent.ID+".json"))
	if code != 0 || !strings.HasPrefix(out, "URGENT") {
		t.Fatalf("open: code %d, output does not start with URGENT:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Is someone threatening you, or asking for money or more images? Yes (yes)", "Investigative: Sextortion", "Online Enticement"} {
		if !strings.Contains(out, want) {
			t.Errorf("open: output lacks %q:\n%s", want, out)
		}
	}
	if out, _, _ := run(t, "open", filepath.Join(dir, plain.ID+".json")); strings.Contains(out, "URGENT") {
		t.Errorf("a report that is not urgent is shown as urgent:\n%s", out)
	}
}

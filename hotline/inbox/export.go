package inbox

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/report"
)

// UrgentDir is the folder inside an inbox that holds urgent reports.
const UrgentDir = intake.UrgentDir

// List reads every opened report of an inbox, the urgent folder's too,
// in the order they were received. It returns the names of envelopes
// that have no .json (reports the intake could not open), which an
// export leaves out. A .json that does not read is an error naming it.
func List(dir string) (opened []*intake.Opened, unopened []string, err error) {
	for _, d := range []string{filepath.Join(dir, UrgentDir), dir} {
		entries, err := os.ReadDir(d)
		if os.IsNotExist(err) && d != dir {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read the inbox: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasSuffix(name, ".json"):
				path := filepath.Join(d, name)
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, nil, err
				}
				o, err := ReadOpened(b)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %w", path, err)
				}
				opened = append(opened, o)
			case strings.HasSuffix(name, ".age"):
				if _, err := os.Stat(filepath.Join(d, strings.TrimSuffix(name, ".age")+".json")); err != nil {
					unopened = append(unopened, filepath.Join(d, name))
				}
			}
		}
	}
	slices.SortStableFunc(opened, func(a, b *intake.Opened) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return opened, unopened, nil
}

// labels returns what the intake stored, or classifies a report stored
// before the intake did.
func labels(o *intake.Opened) *report.Labels {
	if o.Labels != nil {
		return o.Labels
	}
	return report.Classify(o.Report)
}

// WriteJSONL writes each report as one line of JSON, as the intake stores
// it, with its labels.
func WriteJSONL(w io.Writer, reports []*intake.Opened) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, o := range reports {
		c := *o
		c.Labels, c.Urgent = labels(o), o.Report.IsUrgent()
		if err := enc.Encode(&c); err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// answerColumns are the yes-or-no questions, one column each.
var answerColumns = func() []string {
	var out []string
	for _, f := range report.DefaultForm().Fields {
		if f.Kind == report.KindYesNo {
			out = append(out, f.Name)
		}
	}
	return out
}()

// CSVHeader is the first row WriteCSV writes. Each name is a column's
// only one: the answers have their report field's names ("urgent" is the
// reporter's yes, no or unsure), so whether the report is urgent, as the
// intake filed it, is "urgent_report".
func CSVHeader() []string {
	h := []string{"id", "reference", "urgent_report", "received", "delivered", "site", "created", "locale",
		"category", "content", "seen_on"}
	h = append(h, answerColumns...)
	return append(h, "ucs_labels", "ncmec_incident_type", "ncmec_annotations", "ncmec_escalate_to_high_priority",
		"locations", "seen_date", "description", "details", "reporter_country", "incident_country", "reporter_under_18",
		"contact_name", "contact_email", "contact_phone", "contact_wants_outcome", "problems", "hidden_characters")
}

// WriteCSV writes the reports as CSV (RFC 4180) for a spreadsheet: one row
// each, under [CSVHeader]. Lists (locations, labels) are one cell, an item
// a line. A cell of the reporter's text that a spreadsheet would take for
// a formula (it starts with =, +, -, @, a tab or a carriage return) gets a
// leading apostrophe, so opening the file runs nothing.
func WriteCSV(w io.Writer, reports []*intake.Opened) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(CSVHeader()); err != nil {
		return err
	}
	for _, o := range reports {
		if err := cw.Write(csvRow(o)); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func csvRow(o *intake.Opened) []string {
	r := o.Report
	l := labels(o)
	var locs []string
	for _, loc := range r.Locations {
		locs = append(locs, loc.Value)
	}
	answers := map[string]string{}
	for _, a := range r.Answers() {
		answers[a.Field] = a.Value
	}
	c := r.Contact
	if c == nil {
		c = &report.Contact{}
	}
	row := []string{o.ID, o.Reference, yesNo(r.IsUrgent()), stamp(o.Received), stamp(o.Delivered), o.Site,
		stamp(r.Created), r.Locale, r.Category, r.Content, r.SeenOn}
	for _, name := range answerColumns {
		row = append(row, answers[name])
	}
	row = append(row, strings.Join(l.UCS, "\n"), l.Incident, strings.Join(l.Annotations, "\n"), yesNo(l.Priority),
		strings.Join(locs, "\n"), r.SeenDate, r.Description, r.Details, r.ReporterCountry, r.IncidentCountry,
		yesNo(r.ReporterUnder18), c.Name, c.Email, c.Phone, yesNo(c.WantsOutcome),
		strings.Join(o.Problems, "\n"), strings.Join(o.HiddenCharacters, " "))
	for i, v := range row {
		row[i] = defuse(v)
	}
	return row
}

// defuse keeps a spreadsheet from reading a cell as a formula.
func defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func yesNo(b bool) string { return strconv.FormatBool(b) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

package report

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// classificationDoc is the file whose table shows [Mappings], between
// these two lines.
const (
	classificationDoc   = "../docs/report-format.md"
	classificationStart = "<!-- classification table: generated from report.Mappings by go test ./report/ -run TestClassificationDocumented -update -->"
	classificationEnd   = "<!-- end of classification table -->"
)

// classificationTable writes [Mappings] as the Markdown table the docs
// show.
func classificationTable() string {
	var b strings.Builder
	b.WriteString("| member | value | Universal Classification Schema | NCMEC incident type | NCMEC annotations |\n|---|---|---|---|---|\n")
	code := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return "`" + strings.Join(s, "`, `") + "`"
	}
	for _, m := range Mappings() {
		ann := code(m.Annotations)
		if m.Priority {
			ann = strings.TrimPrefix(ann+", escalate to high priority", ", ")
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", m.Member, m.Value, strings.Join(m.UCS, "; "), m.Incident, ann)
	}
	return b.String()
}

// TestClassificationDocumented holds docs/report-format.md to the table in
// the code; -update rewrites the docs' table.
func TestClassificationDocumented(t *testing.T) {
	doc, err := os.ReadFile(classificationDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), classificationStart+"\n")
	_, after, ok2 := strings.Cut(rest, classificationEnd)
	if !ok || !ok2 {
		t.Fatalf("%s lacks the lines that mark the classification table:\n%s\n%s", classificationDoc, classificationStart, classificationEnd)
	}
	want := classificationTable()
	if *update {
		if err := os.WriteFile(classificationDoc, []byte(before+classificationStart+"\n"+want+classificationEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := rest[:len(rest)-len(after)-len(classificationEnd)]; got != want {
		t.Errorf("the classification table in %s differs from report.Mappings; run go test ./report/ -run TestClassificationDocumented -update\ngot:\n%s\nwant:\n%s", classificationDoc, got, want)
	}
}

// TestMappingsCover checks that every category has a row (with a schema
// label), and that every row names a member and value the form can
// produce.
func TestMappingsCover(t *testing.T) {
	f := DefaultForm()
	for _, c := range Categories {
		i := slices.IndexFunc(Mappings(), func(m Mapping) bool { return m.Member == "category" && m.Value == c })
		if c != "other" && (i < 0 || len(Mappings()[i].UCS) == 0) {
			t.Errorf("category %q has no Universal Classification Schema label", c)
		}
	}
	for _, m := range Mappings() {
		fd := f.Field(m.Member)
		switch {
		case fd == nil:
			t.Errorf("mapping of %q: no such field", m.Member)
		case fd.Kind == KindCheck:
			if m.Value != "yes" {
				t.Errorf("mapping of %q=%q: a checkbox is only ever yes", m.Member, m.Value)
			}
		case !slices.Contains(fd.Options, m.Value):
			t.Errorf("mapping of %q=%q: not one of its options %v", m.Member, m.Value, fd.Options)
		}
	}
}

func TestClassify(t *testing.T) {
	r := sample()
	r.Category, r.Content, r.Urgent, r.Threatened, r.ReporterInImages, r.AIMade = "sextortion", "image", "yes", "yes", "yes", "yes"
	got := Classify(r)
	want := &Labels{
		UCS: []string{"Investigative: Sextortion", "Categorisation: Virtual or computer-generated",
			"Investigative: Self-generated", "Investigative: Child at immediate risk"},
		Incident:    "Online Enticement of Children for Sexual Acts",
		Annotations: []string{"sextortion", "generative AI", "self-produced"},
		Priority:    true,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Classify = %+v\nwant %+v", got, want)
	}
	if l := Classify(&Report{Category: "other"}); len(l.UCS) != 0 || l.Incident != "" || l.Priority {
		t.Errorf("Classify(other) = %+v, want no label", l)
	}
}

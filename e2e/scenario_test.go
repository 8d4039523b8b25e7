package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/report"
)

// scenarioBoxes are the form's questions and notes shown only under a
// condition, by the id of their box.
func scenarioBoxes() []string {
	var ids []string
	for _, f := range report.DefaultForm().Fields {
		if f.ShowWhen != nil {
			ids = append(ids, f.Name)
		}
	}
	return ids
}

// setChoice sets a menu or a radio group as a person's choice would, with
// the change event the form listens for.
func (f *frame) setChoice(name, value string) {
	f.b.t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.getElementById(%[1]s) ||
			document.querySelector("input[name=" + %[1]s + "][value=" + %[2]s + "]");
		if (!el) return false;
		if (el.type === "radio") el.checked = true; else el.value = %[2]s;
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, quoteJS(name), quoteJS(value))
	if !evalFrame[bool](f, "choose "+name, js) {
		f.b.t.Fatalf("no control for %s=%s", name, value)
	}
}

// shownBoxes lists the conditional questions and notes the form shows.
func (f *frame) shownBoxes() []string {
	f.b.t.Helper()
	ids, _ := json.Marshal(scenarioBoxes())
	return evalFrame[[]string](f, "read the questions shown",
		`JSON.parse(`+quoteJS(string(ids))+`).filter(id => !document.getElementById("f-" + id).hidden)`)
}

// TestScenarioQuestions walks every branch of the form in the browser:
// each scenario shows its own questions and no others, an answer that
// matters shows its note (the emergency number, the way to remove one's
// own images), and changing an earlier answer hides what no longer
// applies. Each new state has no axe violation in any language. A report
// sent with answers reaches the hotline with them, marked urgent.
func TestScenarioQuestions(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	f := b.openReportForm(s)
	f.waitReady()
	if got := f.shownBoxes(); len(got) != 0 {
		t.Errorf("the empty form shows %v, want no scenario question", got)
	}
	type branch struct {
		content, category string
		answers           [][2]string
		want              string
	}
	branches := []branch{
		{"image", "csam", nil, "reporter_in_images ai_made"},
		{"image", "csam", [][2]string{{"reporter_in_images", "yes"}}, "reporter_in_images own_images_note ai_made"},
		{"video", "grooming", nil, "asked_to_meet moved_app images_exchanged ai_made"},
		{"text", "sextortion", nil, "threatened still_in_contact sextortion_note asked_to_meet moved_app images_exchanged reporter_in_images"},
		{"virtual", "intimate_images_minor", nil, "reporter_in_images ai_made"},
		{"livestream", "trafficking", nil, "live_now"},
		{"text", "sexual_material_to_child", nil, "asked_to_meet moved_app images_exchanged"},
		{"text", "misleading", [][2]string{{"urgent", "yes"}}, "urgent_note"},
		{"text", "misleading", [][2]string{{"urgent", "no"}}, ""},
	}
	// Every value of every condition shows its question in some branch.
	for _, fd := range report.DefaultForm().Fields {
		if fd.ShowWhen == nil {
			continue
		}
		for _, v := range fd.ShowWhen.Values {
			covered := slices.ContainsFunc(branches, func(br branch) bool {
				given := map[string]string{"content": br.content, "category": br.category}
				for _, a := range br.answers {
					given[a[0]] = a[1]
				}
				return given[fd.ShowWhen.Field] == v && slices.Contains(strings.Fields(br.want), fd.Name)
			})
			if !covered {
				t.Errorf("no branch shows %s for %s=%s", fd.Name, fd.ShowWhen.Field, v)
			}
		}
	}
	for _, br := range branches {
		// Each branch from no answers: an answer given stays when its
		// question hides, and shows again with it.
		evalFrame[bool](f, "clear the answers", `(document.querySelectorAll("input[type=radio]").forEach(r => r.checked = false), true)`)
		f.setChoice("content", br.content)
		f.setChoice("category", br.category)
		for _, a := range br.answers {
			f.setChoice(a[0], a[1])
		}
		if got := strings.Join(f.shownBoxes(), " "); got != br.want {
			t.Errorf("%s, %s, %v: the form shows %q, want %q", br.content, br.category, br.answers, got, br.want)
		}
	}
	// The own-images note goes with its question when the category
	// changes to one where the question is not asked.
	f.setChoice("category", "csam")
	f.setChoice("reporter_in_images", "yes")
	f.setChoice("category", "trafficking")
	if got := f.shownBoxes(); slices.Contains(got, "own_images_note") {
		t.Errorf("after the category changed to trafficking the form still shows %v", got)
	}
	urgentText := evalFrame[string](f, "read the urgent note", `document.getElementById("f-urgent_note").textContent`)
	if en := catalog(t, "en"); !strings.Contains(urgentText, "112") || !strings.Contains(urgentText, en.T("guidance.urgent")) {
		t.Errorf("the urgent note says %q, want the emergency number 112 and %q", urgentText, en.T("guidance.urgent"))
	}

	// Every question and note a state can show, in every language.
	states := []struct {
		name    string
		answers [][2]string
	}{
		{"sextortion, urgent, own images", [][2]string{{"content", "image"}, {"category", "sextortion"}, {"urgent", "yes"}, {"reporter_in_images", "yes"}}},
		{"a livestream", [][2]string{{"content", "livestream"}, {"category", "grooming"}}},
	}
	seen := map[string]bool{}
	for _, loc := range report.Locales() {
		f.switchLanguage(loc)
		for _, st := range states {
			for _, a := range st.answers {
				f.setChoice(a[0], a[1])
			}
			for _, id := range f.shownBoxes() {
				seen[id] = true
			}
			runAxe(t, f.ctx, st.name+" in "+loc)
		}
	}
	for _, id := range scenarioBoxes() {
		if !seen[id] {
			t.Errorf("axe never checked the form with %s shown", id)
		}
	}
	f.switchLanguage("en")

	// Send a sextortion report that is urgent; the hotline gets the answers.
	in := newInput(t)
	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	for _, a := range [][2]string{{"seen_on", "messaging_app"}, {"content", "image"}, {"category", "sextortion"}} {
		f.setChoice(a[0], a[1])
	}
	answers := map[string]string{"urgent": "yes", "threatened": "yes", "still_in_contact": "no", "moved_app": "yes", "reporter_in_images": "yes", "ai_made": "unsure"}
	for name, v := range answers {
		f.click(fmt.Sprintf("input[name=%s][value=%s]", name, v))
	}
	f.click("#rl-submit")
	f.waitReceipt()
	// The form marked it for the relay, which the demo hotline allows.
	if marked := b.reportPriorities(); !slices.Equal(marked, []string{"urgent"}) {
		t.Errorf("the report was posted with Report-Priority %q, want one post marked urgent", marked)
	}
	// Urgent: the intake keeps it in the urgent folder, not the inbox.
	path := waitUrgent(t, s)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if files := inboxFiles(t, s); !slices.Equal(files, []string{intake.UrgentDir}) {
		t.Errorf("the inbox holds %v besides the urgent folder", files)
	}
	var o intake.Opened
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	r := o.Report
	got := map[string]string{"urgent": r.Urgent, "threatened": r.Threatened, "still_in_contact": r.StillInContact,
		"moved_app": r.MovedApp, "reporter_in_images": r.ReporterInImages, "ai_made": r.AIMade}
	for name, v := range answers {
		if got[name] != v {
			t.Errorf("the hotline got %s=%q, want %q", name, got[name], v)
		}
	}
	if r.Minor != report.Minor || !r.IsUrgent() || len(o.Problems) > 0 {
		t.Errorf("the report is version 1.%d, urgent %v, problems %v: want 1.%d, urgent, none", r.Minor, r.IsUrgent(), o.Problems, report.Minor)
	}
	// The analyst's side: a warning in the intake's log, URGENT first in
	// hotline open; the relay logged nothing of it. The intake logs the
	// warning once the report's files are written, so it may come a
	// moment after them.
	waitLogLine(t, filepath.Join(filepath.Dir(s.RelayLogPath), "intake.log"), `"level":"WARN"`, "URGENT report received", o.ID)
	if relayLog, _ := os.ReadFile(s.RelayLogPath); strings.Contains(strings.ToLower(string(relayLog)), "urgent") {
		t.Errorf("the relay's log mentions the urgent marker:\n%s", relayLog)
	}
	out, err := exec.Command(filepath.Join(build(t).bin, "hotline"), "open", path).Output()
	if err != nil || !strings.HasPrefix(string(out), "URGENT") {
		t.Errorf("hotline open %s: %v, output does not start with URGENT:\n%s", path, err, out)
	}
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}
}

// waitUrgent waits for one report in the intake's urgent folder and
// returns the path of its .json.
func waitUrgent(t *testing.T, s *stack.Stack) string {
	t.Helper()
	d := deliveryLimit
	dir := filepath.Join(s.Inbox, intake.UrgentDir)
	deadline := time.Now().Add(d)
	for {
		jsons, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		ages, _ := filepath.Glob(filepath.Join(dir, "*.age"))
		switch {
		case len(jsons) > 1:
			t.Fatalf("the urgent folder holds %d reports: %v", len(jsons), jsons)
		case len(jsons) == 1 && len(ages) == 1:
			return jsons[0]
		case time.Now().After(deadline):
			t.Fatalf("no report reached the urgent folder within %s (inbox: %v)", d, inboxFiles(t, s))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

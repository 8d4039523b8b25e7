package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
)

// TestAccessibilityAxe runs axe-core's WCAG 2.0, 2.1 and 2.2 A and AA
// rules at every step a reporter sees: the partner page with its button,
// the empty form, the form with errors shown, the form with every section
// open, the form in Brazilian Portuguese and in Arabic (right to left),
// and the receipt (in Arabic). Any
// violation fails the test. The button sits in a closed shadow root that
// axe cannot see into, so its accessible name and role are read from the
// browser's accessibility tree instead.
func TestAccessibilityAxe(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)

	b.openPage(s.PartnerURL)
	runAxe(t, b.ctx, "the partner page")
	checkButtonAX(t, b, "Report child sexual abuse")

	b.clickButton()
	f := b.attachFrame(s)
	f.waitReady()
	f.waitFocus("rl-title")
	runAxe(t, f.ctx, "the empty form")
	runAxe(t, b.ctx, "the partner page with the dialog open")
	dlg := axOf(t, b.ctx, "the dialog", b.loaderNode(t).dialog, "")
	if dlg.Role != "dialog" || dlg.Name != "Report child sexual abuse" || dlg.Props["modal"] != "true" {
		t.Errorf("the dialog is %q named %q (modal %q), want a modal dialog named after the button", dlg.Role, dlg.Name, dlg.Props["modal"])
	}

	f.click("#rl-submit")
	f.waitFocus("locations-0")
	runAxe(t, f.ctx, "the form with errors shown")

	// Every part shown: a second address row, the questions for grooming,
	// and the two sections a reporter opens.
	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	// Leave the field first: leaving it clears its error, and the button
	// below moves up, under a pointer already pressed on it.
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	f.click("#locations-add")
	f.typeText("locations-1", in.locations[1])
	f.choose("category", in.category) // grooming: asks whether someone asked to meet
	f.click("#rl-under18 summary")
	f.click("#rl-contact summary")
	open := evalFrame[string](f, "read what is shown", `[
		document.getElementById("rl-under18").open, document.getElementById("rl-contact").open,
		!document.getElementById("f-asked_to_meet").hidden].join(" ")`)
	if open != "true true true" {
		t.Fatalf("under 18 open, contact open, grooming questions shown: %s, want all true", open)
	}
	runAxe(t, f.ctx, "the form with every section open")

	f.switchLanguage("pt-BR")
	runAxe(t, f.ctx, "the form in Brazilian Portuguese")

	f.switchLanguage("ar")
	if dir := evalFrame[string](f, "read dir", `document.documentElement.dir`); dir != "rtl" {
		t.Errorf(`in Arabic, <html dir=%q>, want "rtl"`, dir)
	}
	runAxe(t, f.ctx, "the form in Arabic, right to left")
	b.saveScreenshot("form-arabic.png")

	// Send it in Arabic: the choices are made with the keyboard, whatever
	// the language of their labels.
	for _, c := range []struct{ id, value string }{{"seen_on", in.seenOn.value}, {"content", in.content.value}} {
		f.click(fmt.Sprintf("label[for=%q]", c.id))
		f.chooseByArrows(c.id, c.value)
	}
	f.click("#rl-submit")
	f.waitReceipt()
	f.waitFocus("rl-receipt")
	runAxe(t, f.ctx, "the receipt")
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}
}

// checkButtonAX checks the report button as a screen reader finds it.
func checkButtonAX(t *testing.T, b *browser, name string) {
	t.Helper()
	btn := axOf(t, b.ctx, "the report button", b.loaderNode(t).button, "")
	if btn.Role != "button" || btn.Name != name || btn.Props["focusable"] != "true" {
		t.Errorf("the report button is %q named %q (focusable %q), want a focusable button named %q",
			btn.Role, btn.Name, btn.Props["focusable"], name)
	}
}

// loaderNode returns the loader's elements, or fails the test.
func (b *browser) loaderNode(t *testing.T) loaderNodes {
	t.Helper()
	l, err := b.loader(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestErrorsAnnounced submits the empty form and checks that the errors
// are announced and tied to their fields: the summary is an alert (a live
// region) that screen readers read out, the focus moves to the first field
// in error, and each field in error is marked invalid and described by a
// visible message that says what is wrong, in the DOM and in the
// accessibility tree. Fixing a field clears its mark at the next try.
func TestErrorsAnnounced(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	f := b.openReportForm(s)
	f.waitReady()
	en := catalog(t, "en")

	f.click("#rl-submit")
	f.waitFocus("locations-0")
	b.saveScreenshot("form-errors.png")

	type summary struct {
		Visible          bool
		Role, Text, Live string
	}
	sum := evalFrame[summary](f, "read the error summary", `(() => {
		const s = document.getElementById("rl-summary");
		return {Visible: !s.hidden && s.getClientRects().length > 0, Role: s.getAttribute("role") || "",
			Text: s.textContent, Live: s.getAttribute("aria-live") || ""};
	})()`)
	if !sum.Visible || sum.Role != "alert" || sum.Text != en.T("error.summary") {
		t.Errorf("the error summary is %+v, want a visible alert saying %q", sum, en.T("error.summary"))
	}
	ax := axOf(t, f.ctx, "the error summary", 0, `document.getElementById("rl-summary")`)
	if ax.Role != "alert" || ax.Props["live"] != "assertive" {
		t.Errorf("in the accessibility tree the summary is %q with live %q, want an assertive alert", ax.Role, ax.Props["live"])
	}

	// Each field in error, the visible message its aria-describedby
	// names, and every visible message, whether a field names it.
	type invalid struct {
		ID, Described, Message string
		MessageVisible         bool
	}
	type marks struct {
		Invalid  []invalid
		Orphans  []string // visible messages no field in error names
		Required []string // the required fields
	}
	read := func() marks {
		return evalFrame[marks](f, "read the error marks", `(() => {
			const inv = [...document.querySelectorAll('#rl-form [aria-invalid="true"]')];
			const named = new Set();
			const out = inv.map(el => {
				const ids = ((el.getAttribute("aria-describedby") || "") + " " +
					((el.closest("fieldset") || {getAttribute: () => ""}).getAttribute("aria-describedby") || "")).split(/\s+/);
				const msg = ids.map(id => document.getElementById(id)).find(e => e && e.classList.contains("error"));
				if (msg) named.add(msg.id);
				return {ID: el.id, Described: ids.join(" ").trim(), Message: msg ? msg.textContent : "",
					MessageVisible: !!msg && !msg.hidden && msg.getClientRects().length > 0};
			});
			const orphans = [...document.querySelectorAll("#rl-form .error")]
				.filter(e => !e.hidden && !named.has(e.id)).map(e => e.id + ": " + e.textContent);
			const req = [...document.querySelectorAll("#rl-form [required]")].map(e => e.id);
			return {Invalid: out, Orphans: orphans, Required: req};
		})()`)
	}
	m := read()
	want := map[string]string{
		"locations-0": en.T("error.required"), "seen_on": en.T("error.required"),
		"content": en.T("error.required"), "category": en.T("error.required"),
	}
	got := map[string]bool{}
	for _, inv := range m.Invalid {
		got[inv.ID] = true
		if w, ok := want[inv.ID]; !ok {
			t.Errorf("#%s is marked invalid in an empty form", inv.ID)
		} else if inv.Message != w || !inv.MessageVisible {
			t.Errorf("#%s (aria-describedby %q) is described by %q (visible %v), want the visible message %q",
				inv.ID, inv.Described, inv.Message, inv.MessageVisible, w)
		}
		a := axOf(t, f.ctx, "#"+inv.ID, 0, fmt.Sprintf("document.getElementById(%s)", quoteJS(inv.ID)))
		if a.Props["invalid"] != "true" || !strings.Contains(a.Description, inv.Message) {
			t.Errorf("in the accessibility tree #%s has invalid %q and description %q, want invalid and %q in it",
				inv.ID, a.Props["invalid"], a.Description, inv.Message)
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("#%s, required and empty, is not marked invalid", id)
		}
	}
	for _, id := range m.Required {
		if _, ok := want[id]; !ok {
			t.Errorf("#%s is required but this test does not expect an error for it", id)
		}
	}
	if len(m.Orphans) > 0 {
		t.Errorf("visible error messages that no field in error names:%s", joinLines(m.Orphans))
	}
	runAxe(t, f.ctx, "the form with errors shown")

	// Fix the first field and try again: its mark goes, and the focus
	// moves to the next field in error.
	f.typeText("locations-0", "https://example.org/fixed")
	f.click("#rl-submit")
	f.waitFocus("seen_on")
	for _, inv := range read().Invalid {
		if inv.ID == "locations-0" {
			t.Errorf("#locations-0, now filled in, is still marked invalid (%q)", inv.Message)
		}
	}
	if sum := evalFrame[string](f, "read the summary", `document.getElementById("rl-summary").hidden + " " + document.getElementById("rl-summary").textContent`); sum != "false "+en.T("error.summary") {
		t.Errorf("after the second try the summary is %q", sum)
	}
}

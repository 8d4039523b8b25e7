package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestHalfFilledSurvivesClose types into several fields, closes the
// dialog (Escape, then the form's close button) and reopens it with the
// report button: everything typed is still there. It lives only in the
// frame's memory: no cookie in the whole browser, nothing in local or
// session storage, IndexedDB or the Cache API of the frame or the partner
// page, no Set-Cookie on any response, and the form tells the browser not
// to remember its fields. There is no file field anywhere.
func TestHalfFilledSurvivesClose(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)
	f := b.openReportForm(s)
	f.waitReady()

	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	b.press(kb.Enter)
	f.typeText("locations-1", in.locations[1])
	f.choose("seen_on", in.seenOn)
	f.click("#description")
	f.typeText("description", in.description)
	f.click("#rl-contact summary")
	f.click("#contact_email")
	f.typeText("contact_email", "reporter@example.org")
	want := map[string]string{
		"locations-0": in.locations[0], "locations-1": in.locations[1], "seen_on": in.seenOn.value,
		"description": in.description, "contact_email": "reporter@example.org",
	}
	check := func(when string) {
		t.Helper()
		for id, w := range want {
			if got := f.value(id); got != w {
				t.Errorf("%s, #%s holds %q, want %q", when, id, got, w)
			}
		}
		if !evalFrame[bool](f, "read the contact section", `document.getElementById("rl-contact").open`) {
			t.Errorf("%s, the contact section is closed", when)
		}
	}

	escapeForm(b)
	b.clickButton()
	f.waitFocus("rl-title")
	check("closed with Escape and opened again")

	f.click("#rl-close")
	waitClosed(b)
	b.clickButton()
	f.waitFocus("rl-title")
	check("closed with the close button and opened again")
	b.saveScreenshot("form-reopened.png")

	checkNothingStored(t, b, f)
}

// checkNothingStored checks that neither the frame nor the partner page
// stored anything in the browser, and that no file field exists.
func checkNothingStored(t *testing.T, b *browser, f *frame) {
	t.Helper()
	type stored struct {
		Local, Session, IndexedDB, Caches, FileInputs int
		Cookie, FormAutocomplete                      string
		Remembered                                    []string // fields the browser may remember
	}
	const read = `(async () => ({
		Local: localStorage.length, Session: sessionStorage.length, Cookie: document.cookie,
		IndexedDB: (await indexedDB.databases()).length,
		Caches: self.caches ? (await caches.keys()).length : 0,
		FileInputs: document.querySelectorAll("input[type=file]").length,
		FormAutocomplete: (document.getElementById("rl-form") || {getAttribute: () => "off"}).getAttribute("autocomplete"),
		// A field without its own autocomplete attribute follows its
		// form's.
		Remembered: [...document.querySelectorAll("form input, form select, form textarea")].filter(e =>
			e.hasAttribute("autocomplete") ? e.getAttribute("autocomplete") !== "off" : e.form.getAttribute("autocomplete") !== "off")
			.map(e => e.id),
	}))()`
	for _, doc := range []struct {
		where string
		ctx   context.Context
	}{{"the frame", f.ctx}, {"the partner page", b.ctx}} {
		got := eval[stored](t, doc.ctx, "read what "+doc.where+" stored", read)
		if got.Local != 0 || got.Session != 0 || got.IndexedDB != 0 || got.Caches != 0 || got.Cookie != "" {
			t.Errorf("%s stored something: %+v", doc.where, got)
		}
		if got.FileInputs != 0 {
			t.Errorf("%s has %d file fields", doc.where, got.FileInputs)
		}
		if got.FormAutocomplete != "off" || len(got.Remembered) > 0 {
			t.Errorf("in %s the form has autocomplete=%q, and the browser may remember %q", doc.where, got.FormAutocomplete, got.Remembered)
		}
	}
	if n := shadow[int](b, "count file fields in the loader", `function () { return this.querySelectorAll("input[type=file]").length; }`); n != 0 {
		t.Errorf("the loader's shadow root has %d file fields", n)
	}
	b.step("read the browser's cookies", 30*time.Second, func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			t.Errorf("the browser holds a cookie: %s=%s for %s", c.Name, c.Value, c.Domain)
		}
		return nil
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.setCookies) > 0 {
		t.Errorf("responses set cookies:%s", joinLines(b.setCookies))
	}
}

// TestDuplicateAddresses: the same address in two rows of a report is
// flagged under the second as soon as the reporter leaves it (the
// comparison ignores the case of the scheme and host, a fragment and a
// final slash); after a report is sent, "Report something else" starts
// a new one, and an address sent from this page visit is flagged as
// already reported, and is not sent again.
func TestDuplicateAddresses(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)
	en := catalog(t, "en")
	f := b.openReportForm(s)
	f.waitReady()

	type mark struct {
		Invalid, Shown bool
		Text           string
	}
	markOf := func(id string) mark {
		return evalFrame[mark](f, "read #"+id+"'s mark", `(() => {
			const e = document.getElementById(`+quoteJS(id+"-error")+`);
			return {Invalid: document.getElementById(`+quoteJS(id)+`).getAttribute("aria-invalid") === "true",
				Shown: !e.hidden && e.getClientRects().length > 0, Text: e.textContent};
		})()`)
	}
	same := strings.Replace(in.locations[0], "https://e2e-", "HTTPS://E2E-", 1) + "#again"

	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	b.press(kb.Enter)
	f.typeText("locations-1", same)
	if m := markOf("locations-1"); m.Invalid || m.Shown {
		t.Errorf("while typing, the second row is already marked: %+v", m)
	}
	// Tab leaves the field, for the row's remove button.
	if got, want := f.tab(), "button:"+en.T("field.locations.remove"); got != want {
		t.Fatalf("Tab from the second row went to %q, want %q", got, want)
	}
	if m := markOf("locations-1"); !m.Invalid || !m.Shown || m.Text != en.T("error.duplicate") {
		t.Errorf("the second row, the same address as the first, is marked %+v; want invalid and %q shown", m, en.T("error.duplicate"))
	}
	if m := markOf("locations-0"); m.Invalid || m.Shown {
		t.Errorf("the first row is marked too: %+v", m)
	}
	b.saveScreenshot("form-duplicate.png")

	// Another address clears the mark when the reporter leaves the field.
	f.click("#locations-1")
	b.press(kb.End + strings.Repeat(kb.Backspace, len(same)))
	f.typeText("locations-1", in.locations[1])
	b.press(kb.Tab)
	if m := markOf("locations-1"); m.Invalid || m.Shown {
		t.Errorf("after a different address, the second row is still marked: %+v", m)
	}
	if got := f.value("locations-1"); got != in.locations[1] {
		t.Fatalf("the second row holds %q, want %q", got, in.locations[1])
	}

	f.choose("seen_on", in.seenOn)
	f.choose("content", in.content)
	f.choose("category", in.category)
	f.click("#rl-submit")
	f.waitReceipt()
	reports := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		n := 0
		for _, r := range b.requests {
			if r.method == "POST" && strings.Contains(r.url, "/reports/") {
				n++
			}
		}
		return n
	}
	if n := reports(); n != 1 {
		t.Fatalf("the frame sent %d reports, want 1", n)
	}

	f.click("#rl-another")
	f.waitFocus("locations-0")
	if v := f.value("locations-0"); v != "" {
		t.Fatalf("a new report starts with %q in the first row", v)
	}
	f.typeText("locations-0", same)
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	if m := markOf("locations-0"); !m.Invalid || !m.Shown || m.Text != en.T("error.already_reported") {
		t.Errorf("an address reported from this page visit is marked %+v; want invalid and %q shown", m, en.T("error.already_reported"))
	}
	b.saveScreenshot("form-already-reported.png")

	// Sent anyway, it is refused in the browser: nothing more is sent.
	f.choose("seen_on", in.seenOn)
	f.choose("content", in.content)
	f.choose("category", in.category)
	f.click("#rl-submit")
	f.waitFocus("locations-0")
	if m := markOf("locations-0"); m.Text != en.T("error.already_reported") {
		t.Errorf("after Send, the first row says %q, want %q", m.Text, en.T("error.already_reported"))
	}
	// Anything the refused Send started, the frame started before a
	// request it makes now: once that one is seen, so are they.
	b.requestsBefore(f.ctx, "frame", 0)
	if n := reports(); n != 1 {
		t.Errorf("the frame sent %d reports, want still 1", n)
	}
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}
}

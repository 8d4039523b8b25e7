package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// themedURL is the partner page's /themed variant with the loader's data-
// attributes from params (locale, label, color, position, target).
func themedURL(t *testing.T, partnerURL string, params map[string]string) string {
	t.Helper()
	u, err := url.Parse(partnerURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/themed"
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// checkLanguage checks that the whole frame is in the locale: <html lang
// dir>, and every text and label marked for translation holds that
// language's message.
func checkLanguage(t *testing.T, f *frame, locale string) {
	t.Helper()
	cat := catalog(t, locale)
	type marked struct{ Key, Args, Text, Aria, AriaKey string }
	type page struct {
		Lang, Dir string
		Marked    []marked
		Counters  []string
	}
	p := evalFrame[page](f, "read the texts", `(() => ({
		Lang: document.documentElement.lang, Dir: document.documentElement.dir,
		Marked: [...document.querySelectorAll("[data-i18n], [data-i18n-aria]")].map(e => ({
			Key: e.dataset.i18n || "", Args: e.dataset.i18nArgs || "", Text: e.textContent,
			Aria: e.getAttribute("aria-label") || "", AriaKey: e.dataset.i18nAria || ""})),
		Counters: [...document.querySelectorAll(".counter")].map(e => e.textContent),
	}))()`)
	dir := "ltr"
	if locale == "ar" {
		dir = "rtl"
	}
	if p.Lang != locale || p.Dir != dir {
		t.Errorf(`the frame is <html lang=%q dir=%q>, want %q %q`, p.Lang, p.Dir, locale, dir)
	}
	if len(p.Marked) < 40 {
		t.Fatalf("only %d elements are marked for translation", len(p.Marked))
	}
	var wrong []string
	for _, m := range p.Marked {
		var args []string
		for _, pair := range strings.Split(m.Args, ";") {
			if k, v, ok := strings.Cut(pair, "="); ok {
				args = append(args, k, v)
			}
		}
		if m.Key != "" && m.Text != cat.T(m.Key, args...) {
			wrong = append(wrong, m.Key+": "+m.Text)
		}
		if m.AriaKey != "" && m.Aria != cat.T(m.AriaKey, args...) {
			wrong = append(wrong, m.AriaKey+" (aria-label): "+m.Aria)
		}
	}
	for _, c := range p.Counters {
		if !strings.Contains(c, "5000") && !strings.Contains(c, "1000") {
			wrong = append(wrong, "counter: "+c)
		}
	}
	if len(wrong) > 0 {
		t.Errorf("texts not in %s:%s", locale, joinLines(wrong))
	}
}

// TestLanguageFromDataLocale: the site owner's data-locale="de" shows the
// form in German, whatever the browser's language.
func TestLanguageFromDataLocale(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	b.openPage(themedURL(t, s.PartnerURL, map[string]string{"locale": "de"}))
	b.clickButton()
	f := b.attachFrame(s)
	f.waitReady()
	checkLanguage(t, f, "de")
	if got := f.value("rl-lang"); got != "de" {
		t.Errorf("the language menu shows %q, want de", got)
	}
}

// TestLanguageFromBrowser: without data-locale, the browser's language,
// as a person sets it in Chromium, picks the form's: French for French,
// Brazilian Portuguese for Brazil, European Portuguese for Portugal.
func TestLanguageFromBrowser(t *testing.T) {
	s := startStack(t)
	for _, tt := range []struct{ lang, want string }{{"fr-FR", "fr"}, {"pt-BR", "pt-BR"}, {"pt-PT", "pt"}} {
		t.Run(tt.lang, func(t *testing.T) {
			b := newBrowser(t, withLang(tt.lang))
			b.openPage(s.PartnerURL)
			if langs := evalPage[string](b, "read the browser's languages", `navigator.languages.join(",")`); !strings.HasPrefix(langs, tt.lang) {
				t.Fatalf("Chromium started with --lang=%s has navigator.languages %q", tt.lang, langs)
			}
			b.clickButton()
			f := b.attachFrame(s)
			f.waitReady()
			checkLanguage(t, f, tt.want)
		})
	}
}

// TestLanguageSwitch switches the form's language in its own menu, with
// the keyboard, to Arabic and back: nothing typed or chosen is lost, the
// page turns right to left, and every text changes, the error messages
// already shown and the country names included.
func TestLanguageSwitch(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)
	f := b.openReportForm(s)
	f.waitReady()

	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	f.click("#locations-add")
	f.typeText("locations-1", in.locations[0]) // the same address: an error
	b.press(kb.Tab)
	f.choose("seen_on", in.seenOn)
	f.click("#description")
	f.typeText("description", in.description)
	f.click("#rl-contact summary")
	f.click("#contact_name")
	f.typeText("contact_name", "Dana")
	f.click("#rl-submit") // content and category are missing
	f.waitFocus("locations-1")

	values := func() string {
		return evalFrame[string](f, "read the values", `JSON.stringify([...new FormData(document.getElementById("rl-form"))])`)
	}
	before := values()
	country := func() string {
		return evalFrame[string](f, "read a country's name", `document.querySelector('#reporter_country option[value="DE"]').textContent`)
	}
	if c := country(); c != "Germany" {
		t.Fatalf("in English, DE is %q", c)
	}
	errors := func() string {
		return evalFrame[string](f, "read the messages", `[...document.querySelectorAll("#rl-form .error:not([hidden]), #rl-summary")].map(e => e.textContent).join(" | ")`)
	}
	t.Logf("errors in English: %s", errors())

	f.switchLanguage("ar")
	checkLanguage(t, f, "ar")
	if after := values(); after != before {
		t.Errorf("switching to Arabic changed the form's values from\n%s\nto\n%s", before, after)
	}
	if c := country(); c == "Germany" || c == "" {
		t.Errorf("in Arabic, DE is still %q", c)
	}
	// The incident-country menu is listed once in the page and copied by
	// the module: it must hold every country, named like the first menu.
	if same := evalFrame[bool](f, "compare the country menus", `(() => {
		const a = [...document.querySelectorAll('#reporter_country option')].map(o => o.value + '=' + o.textContent);
		const b = [...document.querySelectorAll('#incident_country option')].map(o => o.value + '=' + o.textContent);
		return a.length > 200 && a.slice(1).join() === b.slice(1).join();
	})()`); !same {
		t.Error("the incident-country menu does not offer the same countries, in the same language, as the reporter-country menu")
	}
	ar := catalog(t, "ar")
	if e := errors(); !strings.Contains(e, ar.T("error.duplicate")) || !strings.Contains(e, ar.T("error.summary")) ||
		!strings.Contains(e, ar.T("error.required")) {
		t.Errorf("after the switch the messages shown are %q, want them in Arabic", e)
	}
	b.saveScreenshot("form-arabic-errors.png")

	f.switchLanguage("en")
	checkLanguage(t, f, "en")
	if after := values(); after != before {
		t.Errorf("switching back to English changed the form's values to\n%s", after)
	}
	if c := country(); c != "Germany" {
		t.Errorf("back in English, DE is %q", c)
	}
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}
}

// TestReceiptDate: the receipt's date is written as the reader's language
// writes dates (the browser's Intl.DateTimeFormat), not as 2025-01-31,
// and changes with the language. The expected texts are spelled out here
// from the month names, not asked of the browser.
func TestReceiptDate(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	f := b.submitReport(s, newInput(t)).frame
	type shown struct{ Args, Text string }
	read := func() shown {
		return evalFrame[shown](f, "read the receipt's date", `(() => {
			const e = document.getElementById("rl-date");
			return {Args: e.dataset.i18nArgs || "", Text: e.textContent};
		})()`)
	}
	got := read()
	iso, ok := strings.CutPrefix(got.Args, "date=")
	day, err := time.Parse(time.DateOnly, iso)
	if !ok || err != nil {
		t.Fatalf("the receipt's date is marked %q, want date=YYYY-MM-DD", got.Args)
	}
	de := []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	fr := []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	y, m, d := day.Date()
	want := map[string]string{
		"en": fmt.Sprintf("%s %d, %d", m, d, y),
		"de": fmt.Sprintf("%d. %s %d", d, de[m-1], y),
		"fr": fmt.Sprintf("%d %s %d", d, fr[m-1], y),
	}
	if w := catalog(t, "en").T("receipt.date", "date", want["en"]); got.Text != w {
		t.Errorf("in English the receipt says %q, want %q", got.Text, w)
	}
	for _, loc := range []string{"de", "fr"} {
		f.switchLanguage(loc)
		if got, w := read().Text, catalog(t, loc).T("receipt.date", "date", want[loc]); got != w {
			t.Errorf("in %s the receipt says %q, want %q", loc, got, w)
		}
	}
}

// holdCatalogScript makes the frame's fetch hold the answer for the
// catalogue of one locale (%s) until window.__release() is called, as a
// slow network would. window.__handled settles once the module has had
// the held catalogue (its json() promise settled, then a task passed), or
// at the release if the module never asked for it.
const holdCatalogScript = `(() => {
	const real = window.fetch, url = JSON.parse(document.getElementById("rl-config").textContent).messages[%s];
	if (!url) return false;
	let release, handled, asked = false;
	const gate = new Promise(r => { release = r; });
	window.__handled = new Promise(r => { handled = () => setTimeout(r, 0); });
	window.__release = () => { release(); if (!asked) handled(); return asked; };
	window.fetch = function (input, init) {
		if (String(input) !== url) return real.apply(this, arguments);
		asked = true;
		return gate.then(() => real.call(window, input, init)).then(resp => {
			const json = resp.json;
			resp.json = function () {
				const p = json.call(this);
				p.then(handled, handled);
				return p;
			};
			return resp;
		});
	};
	return true;
})()`

// TestLanguageSwitchLateCatalog: two arrow presses from English to Arabic
// pass through German; when German's catalogue arrives after Arabic's has
// been applied, the form stays in Arabic, as its menu says.
func TestLanguageSwitchLateCatalog(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	f := b.openReportForm(s)
	f.waitReady()
	if !evalFrame[bool](f, "hold the German catalogue", fmt.Sprintf(holdCatalogScript, quoteJS("de"))) {
		t.Fatal("the frame's configuration names no German catalogue")
	}
	order := evalFrame[string](f, "read the menu's order", `[...document.getElementById("rl-lang").options].map(o => o.value).join()`)
	if !strings.Contains(order, "ar,de,en") {
		t.Fatalf("the language menu lists %s; the test needs German between Arabic and English", order)
	}
	f.switchLanguage("ar") // waits until the form is in Arabic
	if !evalFrame[bool](f, "release the German catalogue", `window.__release()`) {
		t.Log("the module did not ask for the German catalogue")
	}
	f.step("wait until the module has had the German catalogue", time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__handled.then(() => true)`, chromedp.EvalAwaitPromise))
		return err
	})
	checkLanguage(t, f, "ar")
	if got := f.value("rl-lang"); got != "ar" {
		t.Errorf("the language menu shows %q, want ar", got)
	}
}

// TestButtonInVisitorLanguage: without data-label the button speaks the
// language the form opens in: German for a German browser, French where
// the page sets data-locale="fr"; the dialog and the frame are named the
// same, and the page's own data-label still wins.
func TestButtonInVisitorLanguage(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t, withLang("de-DE"))
	for _, tt := range []struct {
		url, locale, label string
	}{
		{s.PartnerURL, "de", ""},
		{themedURL(t, s.PartnerURL, map[string]string{"locale": "fr"}), "fr", ""},
		{themedURL(t, s.PartnerURL, map[string]string{"label": "Hier melden"}), "de", "Hier melden"},
	} {
		b.openPage(tt.url)
		want := tt.label
		if want == "" {
			want = catalog(t, tt.locale).T("form.title")
		}
		if got := shadow[buttonLook](b, "read the button", buttonLookJS).Text; got != want {
			t.Errorf("%s: the button says %q, want %q", tt.url, got, want)
		}
		checkButtonAX(t, b, want)
		b.clickButton()
		f := b.attachFrame(s)
		f.waitReady()
		checkLanguage(t, f, tt.locale)
		if got := shadow[string](b, "read the dialog's name", `function () { return this.querySelector("dialog").getAttribute("aria-label") + "|" + this.querySelector("iframe").title; }`); got != want+"|"+want {
			t.Errorf("%s: the dialog and frame are named %q, want %q for both", tt.url, got, want)
		}
	}
}

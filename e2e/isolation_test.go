package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/reportline/reportline/examples/stack"
)

// spyScript is what a hostile script on the partner page does, run before
// any of the page's scripts (the loader too): it keeps every shadow root
// made on the page, closed ones included, by wrapping attachShadow, and
// every message and reportline event the page receives.
const spyScript = `(() => {
	window.__spy = {roots: [], messages: [], events: []};
	const attach = Element.prototype.attachShadow;
	Element.prototype.attachShadow = function (init) {
		const root = attach.call(this, init);
		window.__spy.roots.push(root);
		return root;
	};
	addEventListener("message", e => {
		window.__spy.messages.push({origin: e.origin, data: JSON.stringify(e.data)});
		window.__source = e.source;
	}, true);
	for (const name of ["open", "close", "submitted"]) {
		document.addEventListener("reportline:" + name, e => window.__spy.events.push(name + " " + JSON.stringify(e.detail)));
	}
})()`

// probeScript is what the hostile script then tries, to read the form.
const probeScript = `(() => {
	const attempt = f => { try { return String(f()); } catch (e) { return e.name; } };
	const host = [...document.body.children].find(e => e.tagName === "DIV");
	const root = window.__spy.roots[0];
	const frame = root && root.querySelector("iframe");
	return {
		Iframes: document.querySelectorAll("iframe").length,
		Dialogs: document.querySelectorAll("dialog").length,
		ShadowRoot: attempt(() => host.shadowRoot),
		Frames: window.length,
		Source: window.__source ? attempt(() => window.__source.document.body.innerHTML) : "no message yet",
		SourceForm: window.__source ? attempt(() => window.__source.document.forms[0].elements[0].value) : "no message yet",
		CapturedRoot: !!root,
		ContentDocument: attempt(() => frame.contentDocument),
		ContentWindowDocument: attempt(() => frame.contentWindow.document.documentElement.outerHTML),
		Text: document.documentElement.outerHTML + "\n" + document.body.innerText + "\n" +
			(root ? root.innerHTML : "") + "\n" + JSON.stringify(window.__spy) + "\n" +
			performance.getEntries().map(e => e.name).join("\n"),
	};
})()`

type probe struct {
	Iframes, Dialogs, Frames                     int
	ShadowRoot, Source, SourceForm               string
	CapturedRoot                                 bool
	ContentDocument, ContentWindowDocument, Text string
}

// checkProbe fails if the hostile script read anything of the form.
func checkProbe(t *testing.T, when string, p probe, secrets []string) {
	t.Helper()
	if p.Iframes != 0 || p.Dialogs != 0 || p.ShadowRoot != "null" {
		t.Errorf("%s, the page finds %d iframes, %d dialogs and the shadow root %s; want none", when, p.Iframes, p.Dialogs, p.ShadowRoot)
	}
	// The frame, in a shadow tree, is not among the page's windows.
	if p.Frames != 0 {
		t.Errorf("%s, window.frames has %d windows, want 0", when, p.Frames)
	}
	// The frame's window, as the source of a message it sent, is another
	// origin's.
	if p.Source != "SecurityError" || p.SourceForm != "SecurityError" {
		t.Errorf("%s, the message source's document is %q and its form %q; want SecurityError", when, p.Source, p.SourceForm)
	}
	// Even with the closed shadow root in hand, the frame is closed.
	if !p.CapturedRoot || p.ContentDocument != "null" || p.ContentWindowDocument != "SecurityError" {
		t.Errorf("%s, with the captured shadow root (%v) the iframe's contentDocument is %q and contentWindow.document %q; want null and SecurityError",
			when, p.CapturedRoot, p.ContentDocument, p.ContentWindowDocument)
	}
	for _, s := range secrets {
		if strings.Contains(p.Text, s) {
			t.Errorf("%s, the partner page can read %q", when, s)
		}
	}
}

// TestPartnerCannotReadTheReport runs a hostile script in the partner page
// (before the loader, with the power of any script of the page) while a
// person files a report: it cannot find the frame in the page's DOM, and
// with the closed shadow root it captured it still cannot read the
// frame's document; no message or event the page receives carries
// anything typed or says that a report was sent, no request of the page
// tells the relay the page's address though the page's own referrer
// policy would, and nothing typed appears in the page, its requests or
// its console. Every request of the page and the frame goes to the
// partner's origin or the relay's, and no CSP is violated.
func TestPartnerCannotReadTheReport(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)
	b.step("add the hostile script to the partner page", 30*time.Second, func(ctx context.Context) error {
		for _, src := range []string{spyScript, looseReferrerScript} {
			if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
				return err
			}
		}
		return nil
	})
	secrets := in.secrets()

	f := b.openReportForm(s)
	f.waitReady()
	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	b.press(kb.Enter)
	f.typeText("locations-1", in.locations[1])
	f.choose("seen_on", in.seenOn)
	f.choose("content", in.content)
	f.choose("category", in.category)
	f.click("#description")
	f.typeText("description", in.description)
	// Closed (the frame posts rl:escape, so the page holds its window as
	// the message's source) and opened again, the form is still filled in.
	escapeForm(b)
	checkProbe(t, "with the form filled in", evalPage[probe](b, "probe the frame", probeScript), secrets)
	b.clickButton()
	f.waitFocus("rl-title")

	f.click("#rl-submit")
	f.waitReceipt()
	// Escape posts rl:escape after anything the frame posted at the
	// receipt, so once the loader has had it, the page heard all it will.
	escapeForm(b)
	checkProbe(t, "after the report was sent", evalPage[probe](b, "probe the frame", probeScript), secrets)

	// The messages the page received are the loader's: a type, nothing more,
	// and only the dialog's controls: close, closed by Escape (the first
	// half of a quick exit), and quick exit. None says a report was sent.
	type message struct{ Origin, Data string }
	controls := map[any]bool{"rl:close": true, "rl:escape": true, "rl:exit": true}
	msgs := evalPage[[]message](b, "read the messages", `window.__spy.messages`)
	for _, m := range msgs {
		var data map[string]any
		if err := json.Unmarshal([]byte(m.Data), &data); err != nil || len(data) != 1 ||
			!controls[data["type"]] || m.Origin != s.RelayURL {
			t.Errorf("the partner page received the message %s from %s; want only {type: rl:close|rl:escape|rl:exit} from the relay", m.Data, m.Origin)
		}
	}
	if len(msgs) == 0 {
		t.Error("the partner page received no message at all: was the spy running?")
	}
	// The dialog's close event, which the loader passes on, comes a task
	// after the dialog has closed.
	// Nothing says a report was sent: any script on the page could
	// listen, and with the site and the time it links a visitor to a report.
	want := []string{"open null", "close null", "open null", "close null"}
	b.step("wait for the last event", time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`window.__spy.events.length >= %d`, len(want)),
			chromedp.WithPollingTimeout(0)))
		return err
	})
	if events := evalPage[[]string](b, "read the events", `window.__spy.events`); !slices.Equal(events, want) {
		t.Errorf("the partner page heard the events %q, want %q: no detail", events, want)
	}

	checkRequests(t, b, s, secrets)
	checkNoReferrer(t, b, s)
	checkFrameResources(t, f, s.RelayURL)
	for _, line := range b.consoleLines() {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "Content-Security-Policy") {
			t.Errorf("a CSP was violated: %s", line)
		}
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("the console holds %q: %s", secret, line)
			}
		}
	}
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}
}

// checkRequests checks every request the tab and the frame made: only to
// the partner's origin and the relay's, and none with anything typed in
// its address.
func checkRequests(t *testing.T, b *browser, s *stack.Stack, secrets []string) {
	t.Helper()
	partner, _ := url.Parse(s.PartnerURL)
	allowed := []string{"http://" + partner.Host, s.RelayURL}
	b.mu.Lock()
	reqs := slices.Clone(b.requests)
	b.mu.Unlock()
	origins := map[string]int{}
	for _, r := range reqs {
		u, err := url.Parse(r.url)
		if err != nil {
			t.Errorf("%s requested %q", r.where, r.url)
			continue
		}
		origin := u.Scheme + "://" + u.Host
		origins[origin]++
		if !slices.Contains(allowed, origin) {
			t.Errorf("%s requested %s %s: a third party", r.where, r.method, r.url)
		}
		for _, secret := range secrets {
			if strings.Contains(r.url, secret) || strings.Contains(r.url, url.QueryEscape(secret)) {
				t.Errorf("%s requested %s, which holds %q", r.where, r.url, secret)
			}
		}
	}
	t.Logf("%d requests, by origin: %v", len(reqs), origins)
	if len(origins) != 2 {
		t.Errorf("requests went to %v, want the partner's and the relay's origins", origins)
	}
}

// checkNoReferrer checks that no request the partner page made to the
// relay (the loader, the frame, the site's settings) told it the page's
// address, though the page's own policy (unsafe-url, set by
// looseReferrerScript) would send all of it.
func checkNoReferrer(t *testing.T, b *browser, s *stack.Stack) {
	t.Helper()
	b.mu.Lock()
	reqs := slices.Clone(b.requests)
	b.mu.Unlock()
	toRelay := 0
	for _, r := range reqs {
		if r.where != "page" || !strings.HasPrefix(r.url, s.RelayURL+"/") {
			continue
		}
		toRelay++
		if r.referer != "" {
			t.Errorf("the page's request %s %s told the relay the page's address: Referer %s", r.method, r.url, r.referer)
		}
	}
	if toRelay < 3 {
		t.Errorf("the page made %d requests to the relay; want the loader, the frame and the settings", toRelay)
	}
}

// looseReferrerScript gives the partner page the loosest referrer policy,
// as a careless page might: every request would carry its full address.
const looseReferrerScript = `(() => {
	const m = document.createElement("meta");
	m.name = "referrer";
	m.content = "unsafe-url";
	document.documentElement.append(m);
})()`

// checkFrameResources checks, from the frame's own Resource Timing, that
// everything it loaded came from the relay, the requests made before the
// test's session attached to it included.
func checkFrameResources(t *testing.T, f *frame, relay string) {
	t.Helper()
	names := evalFrame[[]string](f, "list the frame's resources", `performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).map(e => e.name)`)
	for _, n := range names {
		if !strings.HasPrefix(n, relay+"/") {
			t.Errorf("the frame loaded %s, not from the relay", n)
		}
	}
	if len(names) < 4 {
		t.Errorf("the frame lists only %d resources: %q", len(names), names)
	}
}

// TestPartnerCSSCannotRestyle: the partner's own style sheet
// (examples/partner-site/site.css) paints every button lime at 40 px and
// hides every dialog and iframe, and a hostile style sheet added by a
// script hides empty divs and unsets everything; the report button keeps
// its colour, size and place, and the dialog and its frame show.
func TestPartnerCSSCannotRestyle(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	b.openPage(s.PartnerURL)

	type look struct {
		Background, FontSize, Color, Position string
		Width, Height                         float64
	}
	const read = `function () {
		const b = this.querySelector("button"), cs = getComputedStyle(b), r = b.getBoundingClientRect();
		return {Background: cs.backgroundColor, FontSize: cs.fontSize, Color: cs.color,
			Position: getComputedStyle(this.host).position, Width: r.width, Height: r.height};
	}`
	// The partner's rules reach the page's own buttons.
	if bg := evalPage[string](b, "read a page button", `(() => {
		const p = document.createElement("button");
		document.body.append(p);
		const bg = getComputedStyle(p).backgroundColor + " " + getComputedStyle(p).fontSize;
		p.remove();
		return bg;
	})()`); bg != "rgb(0, 255, 0) 40px" {
		t.Fatalf("the partner's style sheet paints its own buttons %q, want lime at 40px: is site.css loaded?", bg)
	}
	want := look{Background: "rgb(176, 0, 32)", FontSize: "16px", Color: "rgb(255, 255, 255)", Position: "fixed"}
	check := func(when string) {
		t.Helper()
		got := shadow[look](b, "read the report button", read)
		if got.Background != want.Background || got.FontSize != want.FontSize || got.Color != want.Color ||
			got.Position != want.Position || got.Width < 44 || got.Height < 44 {
			t.Errorf("%s, the report button looks %+v, want %+v at least 44 px", when, got, want)
		}
	}
	check("with the partner's style sheet")
	evalPage[bool](b, "add a hostile style sheet", `(() => {
		const sheet = new CSSStyleSheet();
		sheet.replaceSync("div:empty, body > div { display: none !important; position: static !important; }" +
			"* { all: unset !important; color: lime !important; font-size: 40px !important; visibility: hidden; }" +
			"button { background: lime !important; }");
		document.adoptedStyleSheets = [sheet];
		return true;
	})()`)
	check("with a hostile style sheet")
	checkButtonAX(t, b, "Report child sexual abuse")

	b.clickButton()
	f := b.attachFrame(s)
	f.waitReady() // the form is visible
	type shown struct {
		DialogOpen              bool
		Display, FrameDisplay   string
		FrameWidth, FrameHeight float64
	}
	got := shadow[shown](b, "read the dialog", `function () {
		const d = this.querySelector("dialog"), f = this.querySelector("iframe"), r = f.getBoundingClientRect();
		return {DialogOpen: d.open, Display: getComputedStyle(d).display, FrameDisplay: getComputedStyle(f).display,
			FrameWidth: r.width, FrameHeight: r.height};
	}`)
	if !got.DialogOpen || got.Display == "none" || got.FrameDisplay == "none" || got.FrameWidth < 300 || got.FrameHeight < 300 {
		t.Errorf("the open dialog is %+v; want it and its frame shown", got)
	}
	b.saveScreenshot("partner-css.png")
}

// TestFrameHeaders fetches the frame's page as the browser does and checks
// its headers: a strict CSP (no inline script, no eval, only
// 'wasm-unsafe-eval'), frame-ancestors limited to the site's registered
// origins, no cookie from any of the relay's answers, and no inline script
// in the page. A page on an unregistered origin gets a refusal, and
// Chromium refuses to show the form in it even when it claims to be the
// partner.
func TestFrameHeaders(t *testing.T) {
	s := startStack(t)
	partner, _ := url.Parse(s.PartnerURL)
	port := partner.Port()
	origins := []string{"http://localhost:" + port, "http://127.0.0.1:" + port}
	frameURL := s.RelayURL + "/w/demo-site?o=" + url.QueryEscape(origins[0]) + "&l=en"

	resp, body := get(t, frameURL, "text/html")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", frameURL, resp.Status)
	}
	csp := map[string][]string{}
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		if f := strings.Fields(d); len(f) > 0 {
			csp[f[0]] = f[1:]
		}
	}
	t.Logf("Content-Security-Policy: %s", resp.Header.Get("Content-Security-Policy"))
	for _, d := range []string{"default-src", "script-src", "style-src", "connect-src", "frame-ancestors", "form-action", "base-uri"} {
		if _, ok := csp[d]; !ok {
			t.Errorf("the frame's CSP has no %s", d)
		}
	}
	if !slices.Equal(csp["default-src"], []string{"'none'"}) {
		t.Errorf("default-src is %q, want 'none'", csp["default-src"])
	}
	for d, v := range csp {
		for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "blob:", "'unsafe-hashes'"} {
			if slices.Contains(v, bad) {
				t.Errorf("the frame's CSP allows %s in %s", bad, d)
			}
		}
		if d != "frame-ancestors" {
			for _, src := range v {
				if strings.Contains(src, "://") {
					t.Errorf("the frame's CSP allows another origin in %s: %s", d, src)
				}
			}
		}
	}
	if !slices.Contains(csp["script-src"], "'wasm-unsafe-eval'") {
		t.Errorf("script-src is %q, want 'wasm-unsafe-eval' in it", csp["script-src"])
	}
	if got := slices.Sorted(slices.Values(csp["frame-ancestors"])); !slices.Equal(got, slices.Sorted(slices.Values(origins))) {
		t.Errorf("frame-ancestors is %q, want the site's origins %q", got, origins)
	}
	// Every script is a file from the relay or JSON data: nothing inline
	// to run, nothing for a style attribute.
	for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("the frame's page has an inline script: %s", tag)
		}
	}
	if regexp.MustCompile(`(?i)\sstyle=|\son[a-z]+=`).MatchString(body) {
		t.Error("the frame's page has a style attribute or an event handler attribute")
	}
	if regexp.MustCompile(`(?i)<input[^>]+type="?file`).MatchString(body) {
		t.Error("the frame's page has a file field")
	}

	// No answer of the relay sets a cookie: the frame, its files, the
	// loader and the embed settings.
	urls := []string{frameURL, s.RelayURL + "/embed.js", s.RelayURL + "/v1/sites/demo-site/embed",
		s.RelayURL + "/v1/sites/demo-site/challenge"}
	for _, m := range regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(body, -1) {
		urls = append(urls, s.RelayURL+m[1])
	}
	for _, u := range urls {
		r, _ := get(t, u, "*/*", "Origin", origins[0])
		if c := r.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("GET %s sets cookies: %q", u, c)
		}
	}
	t.Logf("no Set-Cookie in %d answers", len(urls))

	// Another origin: the relay refuses the frame for it.
	if r, _ := get(t, s.RelayURL+"/w/demo-site?o="+url.QueryEscape("http://evil.example"), "text/html"); r.StatusCode != http.StatusForbidden {
		t.Errorf("the frame for an unregistered origin: %s, want 403", r.Status)
	}

	// A page on an unregistered origin that claims to be the partner: the
	// relay serves the form, and Chromium refuses to show it there.
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>foreign</title><iframe src="%s"></iframe>`, frameURL)
	}))
	defer foreign.Close()
	b := newBrowser(t)
	b.step("open a foreign page framing the form", time.Minute, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(foreign.URL))
	})
	b.step("wait for the refusal", time.Minute, func(ctx context.Context) error {
		for {
			for _, line := range b.consoleLines() {
				if strings.Contains(line, "frame-ancestors") {
					t.Logf("Chromium: %s", line)
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("Chromium did not refuse the frame: %w (console: %q)", ctx.Err(), b.consoleLines())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	b.step("look for the form", 30*time.Second, func(ctx context.Context) error {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			return err
		}
		for _, info := range infos {
			if strings.HasPrefix(info.URL, s.RelayURL+"/w/") {
				return fmt.Errorf("the form loaded in the foreign page as a %s target at %s", info.Type, info.URL)
			}
		}
		return nil
	})
}

// get fetches u with Go's client and returns the answer and its body.
func get(t *testing.T, u, accept string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

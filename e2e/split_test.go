package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reportline/reportline/examples/stack"
)

// TestHotlineHostedFrame runs the split set-up: the hotline publishes the
// report frame (`hotline publish`) and serves it on an origin of its own
// (`hotline serve-frame`), the partner's snippet names it (data-frame), and
// the relay, configured with frame_origin, serves only the loader,
// challenges and the report API. A report sent through it reaches the
// intake and opens; the frame's document and everything it loads come
// from the hotline's origin, and the browser never asks the relay for a
// frame, which the relay would refuse anyway.
func TestHotlineHostedFrame(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.SplitFrame = true })
	frameOrigin := strings.TrimSuffix(s.FrameURL, "/")
	if frameOrigin == "" || strings.HasPrefix(s.FrameURL, s.RelayURL) {
		t.Fatalf("the stack's frame is at %q, the relay at %q: not apart", s.FrameURL, s.RelayURL)
	}
	b := newBrowser(t)
	in := newInput(t)
	sub := b.submitReport(s, in)

	f := sub.frame
	if got := evalFrame[string](f, "the frame's origin", `location.origin`); got != frameOrigin {
		t.Errorf("the frame's document is from %q, want the hotline's %q", got, frameOrigin)
	}
	// The page carries its own policy, with the relay as the only other
	// origin it may connect to.
	csp := evalFrame[string](f, "the frame's CSP", `document.querySelector('meta[http-equiv="Content-Security-Policy"]').content`)
	if !strings.Contains(csp, "connect-src 'self' "+s.RelayURL+";") || !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval';") {
		t.Errorf("the frame's policy: %q", csp)
	}

	id := waitInbox(t, s)
	checkReport(t, s, id, in, sub)
	checkNoPlaintext(t, "the spool copy taken at the receipt", sub.spool, in)
	checkRelayKeptNothing(t, s, in)
	checkLogAddrs(t, s, false)
	// The hotline's frame server logs nothing about the requests it
	// served: only that it started.
	frameLog := logLines(t, filepath.Join(filepath.Dir(s.RelayLogPath), "frame.log"))
	if len(frameLog) == 0 || !strings.Contains(frameLog[0], "serving the report frame") {
		t.Errorf("the frame server's log: %q", frameLog)
	}
	for _, line := range frameLog[min(1, len(frameLog)):] {
		t.Errorf("the frame server logged: %s", line)
	}

	// The requests the browser made: the frame's document from the
	// hotline, none to the relay's frame route, the report to the relay.
	b.mu.Lock()
	requests := append([]request(nil), b.requests...)
	b.mu.Unlock()
	var document, posted bool
	for _, r := range requests {
		switch {
		case strings.HasPrefix(r.url, s.RelayURL+"/w/"):
			t.Errorf("the browser asked the relay for its frame: %s %s (%s)", r.method, r.url, r.where)
		case strings.HasPrefix(r.url, s.FrameURL+"?s=demo-site&"):
			document = true
		case r.method == "POST" && strings.HasPrefix(r.url, s.RelayURL+"/v1/sites/demo-site/reports/"):
			posted = true
		}
	}
	if !document || !posted {
		t.Errorf("requests seen: the frame's document from the hotline %v, the report to the relay %v; all:\n%v", document, posted, requests)
	}
	// What the frame loaded before the test attached to it, as the frame
	// itself records it: its code all from the hotline's origin.
	loaded := evalFrame[[]string](f, "the frame's resources",
		`[performance.getEntriesByType("navigation")[0].name].concat(performance.getEntriesByType("resource").map(e => e.name))`)
	var code int
	for _, u := range loaded {
		if strings.HasPrefix(u, s.RelayURL) && !strings.HasPrefix(u, s.RelayURL+"/v1/sites/demo-site/") {
			t.Errorf("the frame loaded %s from the relay", u)
		}
		for _, kind := range []string{"/a/widget.", "/a/wasm_exec.", "/a/boot.", "/a/frame.", "/?s=demo-site&"} {
			if strings.Contains(u, kind) {
				code++
				if !strings.HasPrefix(u, s.FrameURL) {
					t.Errorf("the frame loaded %s, not from the hotline's origin", u)
				}
			}
		}
	}
	if code != 5 {
		t.Errorf("the frame's page, module, runtime, boot script and style sheet: found %d of 5 in %q", code, loaded)
	}

	// A partner page in German: the published frame's boot script takes
	// the language from the frame's address and opens the German page.
	b.openPage(s.PartnerURL + "themed?locale=de")
	b.clickButton()
	de := b.attachFrameAt(s.FrameURL + "de.html?")
	de.waitReady()
	if got := evalFrame[string](de, "the frame's page", `location.pathname + " " + document.documentElement.lang`); got != "/de.html de" {
		t.Errorf("with data-locale=\"de\" the frame shows %q, want the German page /de.html", got)
	}

	// The relay refuses its own frame for this hotline, and says where
	// the hotline's is.
	resp, err := http.Get(s.RelayURL + "/w/demo-site?o=" + strings.TrimSuffix(s.PartnerURL, "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct{ Type, Detail string }
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != http.StatusNotFound || !strings.HasSuffix(p.Type, "/frame-elsewhere") || !strings.Contains(p.Detail, frameOrigin) {
		t.Errorf("the relay's frame for the hotline: %d %+v", resp.StatusCode, p)
	}
}

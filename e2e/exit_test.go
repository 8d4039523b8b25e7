package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitLocation waits until the partner's tab shows the address want, and
// returns its history length then.
func (b *browser) waitLocation(want string) int {
	b.t.Helper()
	var n int
	b.step("wait for the tab to show "+want, time.Minute, func(ctx context.Context) error {
		for {
			// A navigation under way makes an evaluation fail: try again.
			v, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[location.href, history.length, document.readyState]`))
			if err == nil && len(v) == 3 && v[0] == want && v[2] == "complete" {
				n = int(v[1].(float64))
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: the tab shows %v (%v)", ctx.Err(), v, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	return n
}

// TestQuickExit: the form's quick exit is the first thing Tab reaches from
// its title, and Escape twice does the same. Either closes the dialog,
// throws away what was typed with the frame, and sends the partner's tab
// to the neutral address the site chose (by default its own home page)
// with location.replace: the history does not grow, so Back does not
// return to the form. An Escape that only closed the form, followed by
// anything else, is not a quick exit.
func TestQuickExit(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	u, err := url.Parse(s.PartnerURL)
	if err != nil {
		t.Fatal(err)
	}
	home := u.Scheme + "://" + u.Host + "/"

	open := func(params map[string]string) (*frame, int) {
		t.Helper()
		page := themedURL(t, s.PartnerURL, params)
		b.openPage(page)
		n := b.waitLocation(page)
		b.clickButton()
		f := b.attachFrame(s)
		f.waitReady()
		f.waitFocus("rl-title")
		f.click("#locations-0")
		f.typeText("locations-0", "https://typed-before-leaving.example/")
		return f, n
	}

	// The button, reached first by keyboard; the default address.
	f, before := open(map[string]string{"locale": "en"})
	evalFrame[bool](f, "focus the form's title", `(document.getElementById("rl-title").focus(), true)`)
	f.tabTo("rl-exit", 1)
	if label := evalFrame[string](f, "read the button", `document.getElementById("rl-exit").textContent`); label != catalog(t, "en").T("form.exit") {
		t.Errorf("the quick exit button says %q, want %q", label, catalog(t, "en").T("form.exit"))
	}
	b.press(kb.Enter)
	if after := b.waitLocation(home); after != before {
		t.Errorf("history length %d after the quick exit, %d before: the form's page must be replaced, not left behind", after, before)
	}

	// Escape twice; an address the site chose.
	_, before = open(map[string]string{"exit": "/?weather=today"})
	escapeForm(b)
	b.press(kb.Escape)
	if after := b.waitLocation(home + "?weather=today"); after != before {
		t.Errorf("history length %d after Escape twice, %d before", after, before)
	}

	// Escape, then another key, then Escape: the form closed, no exit.
	page := themedURL(t, s.PartnerURL, map[string]string{"exit": "/?left=1"})
	open(map[string]string{"exit": "/?left=1"})
	escapeForm(b)
	b.press(kb.Tab)
	b.press(kb.Escape)
	// The next event the page handles comes after that Escape: if it had
	// been a quick exit, the tab would be elsewhere by the time the
	// button opens the form again.
	b.press(kb.Tab, chromedp.ModifierShift)
	b.clickButton()
	b.attachFrame(s).waitReady()
	if got := evalPage[string](b, "read the address", `location.href`); got != page {
		t.Errorf("after Escape, Tab and Escape the tab shows %q, want it still on %q", got, page)
	}
}

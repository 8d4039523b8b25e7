package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reportline/reportline/examples/stack"
)

// TestBidiArabic: in the Arabic form, a value or web address inside a
// right-to-left sentence keeps its own order on screen: the emergency
// number "+49 110" does not show as "110 49+", nor "https://" as
// "//:https". It reads where each glyph is drawn, as a reader sees it,
// in text the relay rendered and in an error the module wrote.
func TestBidiArabic(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.EmergencyNumber = "+49 110" })
	b := newBrowser(t)
	b.openPage(themedURL(t, s.PartnerURL, map[string]string{"locale": "ar"}))
	b.clickButton()
	f := b.attachFrame(s)
	f.waitReady()

	checkLeftToRight(t, f, "li.emergency", "+49 110")
	f.click("#rl-under18 summary")
	checkLeftToRight(t, f, `[data-i18n="under18.helpline"]`, "https://childhelplineinternational.org")

	f.click("#locations-0")
	f.typeText("locations-0", "https://") // no host: the error names the prefixes
	f.click("#rl-submit")
	f.step("wait for the address's error", time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("locations-0-error").hidden`,
			chromedp.WithPollingTimeout(0)))
		return err
	})
	checkLeftToRight(t, f, "#locations-0-error", "https://")
	checkLeftToRight(t, f, "#locations-0-error", "http://")
}

// checkLeftToRight checks that the text needle, inside the element sel,
// is drawn left to right: each character to the right of the one before
// it on the same line.
func checkLeftToRight(t *testing.T, f *frame, sel, needle string) {
	t.Helper()
	type glyph struct {
		X, Top float64
		C      string
	}
	type found struct {
		Text   string
		Glyphs []glyph
	}
	got := evalFrame[found](f, "read where the glyphs of "+needle+" are", fmt.Sprintf(`(() => {
		const el = document.querySelector(%s), needle = %s;
		const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let n = w.nextNode(); n; n = w.nextNode()) {
			const at = n.data.indexOf(needle);
			if (at < 0) continue;
			const glyphs = [];
			for (let i = 0; i < needle.length; i++) {
				const r = document.createRange();
				r.setStart(n, at + i);
				r.setEnd(n, at + i + 1);
				const b = r.getBoundingClientRect();
				glyphs.push({X: b.left + b.width / 2, Top: Math.round(b.top), C: needle[i]});
			}
			return {Text: el.textContent, Glyphs: glyphs};
		}
		return {Text: el.textContent, Glyphs: []};
	})()`, quoteJS(sel), quoteJS(needle)))
	if len(got.Glyphs) == 0 {
		t.Fatalf("%s does not contain %q: %q", sel, needle, got.Text)
	}
	compared := 0
	for i := 1; i < len(got.Glyphs); i++ {
		a, b := got.Glyphs[i-1], got.Glyphs[i]
		if a.C == " " || b.C == " " || a.Top != b.Top {
			continue // a space has no glyph to place; a line break restarts
		}
		compared++
		if b.X <= a.X {
			t.Errorf("in %s, %q is drawn left of %q in %q (x %.1f, %.1f): the text reads out of order in %q",
				sel, b.C, a.C, needle, b.X, a.X, got.Text)
			return
		}
	}
	if compared < 2 {
		t.Errorf("in %s, only %d pairs of %q's glyphs were on one line: nothing to compare", sel, compared, needle)
	}
}

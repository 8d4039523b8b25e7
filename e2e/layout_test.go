package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// reflow is what the frame's layout looks like at one size.
type reflow struct {
	ScrollWidth, ClientWidth, InnerHeight float64
	Outside                               []string // controls not wholly inside the width
	Submit                                struct {
		Top, Bottom, Left, Right float64
		OnTop                    bool // the element at its middle is the button
	}
}

const reflowJS = `(() => {
	const de = document.documentElement, w = de.clientWidth;
	const outside = [...document.querySelectorAll("main input, main select, main textarea, main button, main summary, main a, main p, main h1, main h2, main legend, main label")]
		.filter(e => e.getClientRects().length > 0 && !e.closest(".trap, .visually-hidden"))
		.filter(e => { const r = e.getBoundingClientRect(); return r.left < -0.5 || r.right > w + 0.5; })
		.map(e => (e.id || e.tagName.toLowerCase()) + " " + JSON.stringify(e.getBoundingClientRect()));
	const s = document.getElementById("rl-submit");
	s.scrollIntoView({block: "nearest"});
	const r = s.getBoundingClientRect();
	const mid = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
	return {ScrollWidth: de.scrollWidth, ClientWidth: w, InnerHeight: innerHeight, Outside: outside,
		Submit: {Top: r.top, Bottom: r.bottom, Left: r.left, Right: r.right, OnTop: mid === s}};
})()`

// checkReflow checks that the form needs no scrolling sideways, that no
// control sticks out, and that the submit button can be scrolled to and
// is not covered.
func checkReflow(t *testing.T, f *frame, when string) {
	t.Helper()
	r := evalFrame[reflow](f, "measure the form "+when, reflowJS)
	t.Logf("%s: the frame is %.0f px wide and %.0f px high", when, r.ClientWidth, r.InnerHeight)
	if r.ScrollWidth > r.ClientWidth {
		t.Errorf("%s, the form scrolls sideways: %.0f px of content in %.0f px", when, r.ScrollWidth, r.ClientWidth)
	}
	if len(r.Outside) > 0 {
		t.Errorf("%s, these stick out of the %.0f px width:%s", when, r.ClientWidth, joinLines(r.Outside))
	}
	sb := r.Submit
	// Within a pixel: the frame's scroll positions are whole pixels.
	if sb.Top < -1 || sb.Bottom > r.InnerHeight+1 || sb.Left < -1 || sb.Right > r.ClientWidth+1 || !sb.OnTop {
		t.Errorf("%s, the submit button scrolled into view is at %+v in a %.0f×%.0f frame (on top: %v)",
			when, sb, r.ClientWidth, r.InnerHeight, sb.OnTop)
	}
	if sb.Bottom-sb.Top < 44 || sb.Right-sb.Left < 44 {
		t.Errorf("%s, the submit button is %.0f×%.0f px, smaller than a 44 px target", when, sb.Right-sb.Left, sb.Bottom-sb.Top)
	}
}

// checkDialogFits checks that the dialog lies wholly in the viewport.
func checkDialogFits(t *testing.T, b *browser, when string) {
	t.Helper()
	type fit struct{ Left, Top, Right, Bottom, W, H float64 }
	d := shadow[fit](b, "measure the dialog", `function () {
		const r = this.querySelector("dialog").getBoundingClientRect();
		return {Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom, W: innerWidth, H: innerHeight};
	}`)
	if d.Left < 0 || d.Top < 0 || d.Right > d.W+0.5 || d.Bottom > d.H+0.5 || d.Right-d.Left < 300 {
		t.Errorf("%s, the dialog is at %+v, not inside the %.0f×%.0f viewport", when, d, d.W, d.H)
	}
}

// TestSmallScreenAndZoom opens the form on a 360 px wide phone screen and
// in a 1280×800 window zoomed to 200 % (which lays the page out 640 CSS
// px wide and 400 high): the form reflows with no sideways scrolling,
// nothing sticks out, the submit button can be reached and pressed, and
// errors shown keep it so. Screenshots go to e2e/artifacts.
func TestSmallScreenAndZoom(t *testing.T) {
	for _, c := range []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"360px", 360, 740, []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile}},
		{"200pct", 640, 400, []chromedp.EmulateViewportOption{chromedp.EmulateScale(2)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startStack(t)
			b := newBrowser(t)
			b.step("emulate the screen", 30*time.Second, func(ctx context.Context) error {
				return chromedp.Do(ctx, chromedp.EmulateViewport(c.width, c.height, c.opts...))
			})
			f := b.openReportForm(s)
			f.waitReady()
			f.waitFocus("rl-title")
			evalFrame[bool](f, "scroll to the top", `(scrollTo(0, 0), true)`)
			b.saveScreenshot("form-" + c.name + ".png")
			checkDialogFits(t, b, c.name)
			checkReflow(t, f, c.name)
			checkButtonFits(t, b, c.name)

			// Reachable and usable: the submit button is pressed with the
			// mouse where it is, and the errors it shows keep the layout.
			f.click("#rl-submit")
			f.waitFocus("locations-0")
			b.saveScreenshot("form-" + c.name + "-errors.png")
			checkReflow(t, f, c.name+" with errors shown")
			evalFrame[bool](f, "scroll to the submit button", `(document.getElementById("rl-submit").scrollIntoView({block: "end"}), true)`)
			b.saveScreenshot("form-" + c.name + "-submit.png")
		})
	}
}

// checkButtonFits checks that the report button lies in the viewport.
func checkButtonFits(t *testing.T, b *browser, when string) {
	t.Helper()
	ok := shadow[string](b, "measure the report button", `function () {
		const r = this.querySelector("button").getBoundingClientRect();
		return r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight ? "" : JSON.stringify(r) + " in " + innerWidth + "×" + innerHeight;
	}`)
	if ok != "" {
		t.Errorf("%s, the report button is not wholly in the viewport: %s", when, ok)
	}
}

// TestFormScreenshots saves the form in its dialog in a 1280×800 window,
// at the top, the middle and the end, for people to look at (the guide
// for site owners shows the first, docs/img/form.png).
func TestFormScreenshots(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	b.step("emulate the screen", 30*time.Second, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800))
	})
	f := b.openReportForm(s)
	f.waitReady()
	f.waitFocus("rl-title")
	checkDialogFits(t, b, "at 1280×800")
	checkReflow(t, f, "at 1280×800")
	for i, at := range []string{"0", "0.5", "1"} {
		evalFrame[bool](f, "scroll the form", fmt.Sprintf(`(scrollTo(0, %s * (document.documentElement.scrollHeight - innerHeight)), true)`, at))
		b.saveScreenshot(fmt.Sprintf("form-1280x800-%d.png", i+1))
	}
}

// TestMotionAndColourPreferences emulates the operating system's settings
// for reduced motion and forced colours (Windows' contrast themes) and
// checks that the form's style sheet honours them: under reduced motion
// no transition or animation runs, and in forced colours a field in error
// keeps a border of its own system colour (Mark), the summary's border
// follows the text colour, and the report button's border the button
// text colour. axe finds nothing in forced colours either.
func TestMotionAndColourPreferences(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	f := b.openReportForm(s)
	f.waitReady()
	ctxs := []context.Context{b.ctx, f.ctx}

	// A probe with a transition, an animation and smooth scrolling, set
	// through the CSS object model (the frame's CSP allows no inline style
	// attribute): the reduced-motion rule must win over it.
	const motion = `(() => {
		let p = document.getElementById("probe");
		if (!p) {
			p = document.createElement("div");
			p.id = "probe";
			p.style.transition = "opacity 1s";
			p.style.animation = "probe 2s infinite";
			p.style.scrollBehavior = "smooth";
			document.querySelector("main").append(p);
		}
		const cs = getComputedStyle(p);
		return [matchMedia("(prefers-reduced-motion: reduce)").matches, cs.transitionDuration, cs.animationName, cs.scrollBehavior].join(" ");
	})()`
	if got := evalFrame[string](f, "read the motion", motion); got != "false 1s probe smooth" {
		t.Fatalf("without a preference, the probe's motion is %q, want %q", got, "false 1s probe smooth")
	}
	emulateMedia(t, ctxs, &emulation.MediaFeature{Name: "prefers-reduced-motion", Value: "reduce"})
	if got := evalFrame[string](f, "read the motion", motion); got != "true 0s none auto" {
		t.Errorf("under reduced motion, the probe's motion is %q, want %q", got, "true 0s none auto")
	}
	escapeForm(b) // close, and open again: nothing moves
	b.clickButton()
	f.waitFocus("rl-title")
	if n := evalPage[int](b, "count the page's animations", `document.getAnimations().length`) +
		evalFrame[int](f, "count the frame's animations", `document.getAnimations().filter(a => a.effect.target.id !== "probe").length`); n != 0 {
		t.Errorf("under reduced motion, opening the form runs %d animations or transitions", n)
	}

	emulateMedia(t, ctxs, &emulation.MediaFeature{Name: "forced-colors", Value: "active"})
	if !evalFrame[bool](f, "read forced colours", `matchMedia("(forced-colors: active)").matches`) {
		t.Fatal("the frame does not see forced colours")
	}
	f.click("#rl-submit")
	f.waitFocus("locations-0")
	// A system colour's value, read from a probe painted with it.
	const colours = `(() => {
		const sys = name => {
			const p = document.createElement("span");
			p.style.color = name;
			document.body.append(p);
			const c = getComputedStyle(p).color;
			p.remove();
			return c;
		};
		const border = id => getComputedStyle(document.getElementById(id)).borderTopColor;
		return {Mark: sys("Mark"), CanvasText: sys("CanvasText"), Invalid: border("seen_on"),
			Valid: border("details"), Summary: border("rl-summary")};
	})()`
	type colourSet struct{ Mark, CanvasText, Invalid, Valid, Summary string }
	c := evalFrame[colourSet](f, "read the colours", colours)
	t.Logf("in forced colours: %+v", c)
	if c.Invalid != c.Mark || c.Invalid == c.Valid {
		t.Errorf("in forced colours, a field in error has the border %s and a valid one %s; want Mark (%s), unlike the valid one", c.Invalid, c.Valid, c.Mark)
	}
	if c.Summary != c.CanvasText {
		t.Errorf("in forced colours, the error summary's border is %s, want CanvasText (%s)", c.Summary, c.CanvasText)
	}
	type btn struct{ Border, ButtonText string }
	bc := shadow[btn](b, "read the button's colours", `function () {
		const p = document.createElement("span");
		p.style.color = "ButtonText";
		document.body.append(p);
		const want = getComputedStyle(p).color;
		p.remove();
		return {Border: getComputedStyle(this.querySelector("button")).borderTopColor, ButtonText: want};
	}`)
	if bc.Border != bc.ButtonText {
		t.Errorf("in forced colours, the report button's border is %s, want ButtonText (%s)", bc.Border, bc.ButtonText)
	}
	b.saveScreenshot("form-forced-colors.png")
	runAxe(t, f.ctx, "the form with errors in forced colours")
	runAxe(t, b.ctx, "the partner page in forced colours")
}

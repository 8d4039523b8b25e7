package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusSpy records, in the partner page, every element that gets the
// focus (focusin, which a shadow root retargets to its host), as the
// page's own scripts could see it.
const focusSpy = `(() => {
	window.__focused = [];
	document.addEventListener("focusin", e => {
		const el = e.target;
		window.__focused.push(el.tagName + (el.id ? "#" + el.id : "") + " " + (el.textContent || "").trim().slice(0, 20));
	}, true);
	return true;
})()`

// partnerFocus returns what focusSpy recorded.
func partnerFocus(b *browser) []string {
	b.t.Helper()
	return evalPage[[]string](b, "read the partner page's focus log", `window.__focused`)
}

// tabToButton presses Tab from the top of the partner page until the
// report button has the focus, and returns how many presses it took.
func tabToButton(b *browser) int {
	b.t.Helper()
	for i := 1; i <= 10; i++ {
		b.press(kb.Tab)
		if st := b.focusState(); st.HostActive && st.Inner == "BUTTON" {
			return i
		}
	}
	b.t.Fatalf("10 presses of Tab did not reach the report button (focus on %+v)", b.focusState())
	return 0
}

// waitClosed waits until the dialog is closed and the report button has
// the focus again.
func waitClosed(b *browser) focusState {
	b.t.Helper()
	var st focusState
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st = b.focusState()
		if !st.DialogOpen && st.HostActive && st.Inner == "BUTTON" {
			return st
		}
	}
	b.t.Fatalf("after closing, the dialog is open %v and the focus is on %+v; want it closed and the focus on the report button", st.DialogOpen, st)
	return st
}

// escapesJS counts, in the partner page, the form's rl:escape messages,
// from the first call on. The loader's own listener, added when the page
// loaded, has handled each message by the time this one counts it.
const escapesJS = `(() => {
	if (window.__escapes === undefined) {
		window.__escapes = 0;
		addEventListener("message", e => { if (e.data && e.data.type === "rl:escape") window.__escapes++; });
	}
	return window.__escapes;
})()`

// escapeForm presses Escape in the form and waits until the dialog is
// closed, the report button has the focus again, and the loader has had
// the form's rl:escape message, which arms the quick exit. The browser
// closes a modal dialog on Escape by itself, so the dialog may close
// before the message, from the frame's process, arrives; a key pressed in
// between would reach a loader that is not yet armed.
func escapeForm(b *browser) focusState {
	b.t.Helper()
	before := evalPage[int](b, "count the form's Escape messages", escapesJS)
	b.press(kb.Escape)
	st := waitClosed(b)
	b.step("wait for the form's rl:escape message", time.Minute, func(ctx context.Context) error {
		for {
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](escapesJS))
			if err != nil {
				return err
			}
			if n > before {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return st
}

// TestKeyboardOnly files a whole report with the keyboard alone, from the
// top of the partner page: Tab to the report button, Enter to open the
// form, Tab and Shift-Tab through it, the arrow keys in the menus, Space
// on a radio button, a section and a checkbox, Enter on the buttons, and
// Escape to close; the focus then returns to the report button. No mouse
// event is sent.
func TestKeyboardOnly(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)
	b.openPage(s.PartnerURL)
	evalPage[bool](b, "spy on the focus", focusSpy)

	n := tabToButton(b)
	t.Logf("the report button has the focus after %d presses of Tab", n)
	b.press(kb.Enter)
	f := b.attachFrame(s)
	f.waitReady()
	f.waitFocus("rl-title")
	if st := b.focusState(); !st.DialogOpen || !st.HostActive || st.Inner != "IFRAME" {
		t.Fatalf("after Enter on the button, the focus is on %+v; want the open dialog's frame", st)
	}

	path := f.tabTo("locations-0", 5)
	t.Logf("Tab from the title: %q", path)
	b.press(in.locations[0])
	b.press(kb.Tab)
	f.waitFocus("locations-add")
	b.press(kb.Enter) // adds a row and moves the focus into it
	f.waitFocus("locations-1")
	b.press(in.locations[1])
	f.tabTo("seen_on", 4)
	f.chooseByArrows("seen_on", in.seenOn.value)
	// Shift-Tab goes back, past the question whether it is urgent, and
	// Tab forth again.
	f.tabTo("locations-add", 2, chromedp.ModifierShift)
	f.tabTo("seen_on", 2)
	f.tabTo("content", 1)
	f.chooseByArrows("content", in.content.value)
	f.tabTo("category", 1)
	f.chooseByArrows("category", in.category.value)
	// Grooming asks whether someone asked to meet: Tab reaches the first
	// answer of the radio group, Space picks it.
	f.step("wait for the grooming questions", time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("f-asked_to_meet").hidden`,
			chromedp.WithPollingTimeout(0)))
		return err
	})
	if got := f.tab(); !strings.HasPrefix(got, "input:") {
		t.Fatalf("Tab after the category went to %q, want the first answer to \"asked to meet\"", got)
	}
	b.press(" ")
	if got := evalFrame[string](f, "read the answer", `(document.querySelector("input[name=asked_to_meet]:checked") || {value: ""}).value`); got != "yes" {
		t.Errorf("Space on the first answer checked %q, want yes", got)
	}
	f.tabTo("description", 12)
	b.press(in.description)
	// The under-18 section: Space on its summary opens it, Tab reaches the
	// checkbox inside, Space ticks it.
	f.tabTo("summary:"+catalog(t, "en").T("under18.toggle")[:30], 6)
	b.press(" ")
	if !evalFrame[bool](f, "read the section", `document.getElementById("rl-under18").open`) {
		t.Fatal("Space on the under-18 section's summary did not open it")
	}
	f.tabTo("reporter_under_18", 4)
	b.press(" ")
	if !evalFrame[bool](f, "read the checkbox", `document.getElementById("reporter_under_18").checked`) {
		t.Error("Space on the under-18 checkbox did not tick it")
	}
	f.tabTo("rl-submit", 4)
	b.saveScreenshot("keyboard-filled.png")
	b.press(kb.Enter)
	f.waitReceipt()
	f.waitFocus("rl-receipt")

	for id, want := range map[string]string{"locations-0": in.locations[0], "locations-1": in.locations[1],
		"description": in.description} {
		if got := f.value(id); got != want {
			t.Errorf("#%s held %q when sent, want %q", id, got, want)
		}
	}

	escapeForm(b)
	// The partner page saw the focus on its links on the way to the
	// button, then only on the host of the loader's shadow root.
	focused := partnerFocus(b)
	for i, el := range focused {
		if strings.HasPrefix(el, "DIV") {
			if rest := slices.DeleteFunc(slices.Clone(focused[i:]), func(s string) bool { return strings.HasPrefix(s, "DIV") }); len(rest) > 0 {
				t.Errorf("after the report button, the partner page's elements got the focus:%s", joinLines(rest))
			}
			break
		}
	}
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}
}

// TestFocusHeldInDialog checks that the dialog holds the focus. Escape,
// wherever the focus is in the form, and the form's close button each
// close the dialog and give the focus back to the report button. Then
// Tab, and Shift-Tab, are pressed 40 times each in the open dialog: the
// focus goes round the form, and past its ends it may leave the page for
// the browser's own controls (the native modal dialog does so in every
// browser; no element of the page has the focus then), but it never
// reaches the partner page's content, which the dialog makes inert.
func TestFocusHeldInDialog(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	b.openPage(s.PartnerURL)
	tabToButton(b)
	evalPage[bool](b, "spy on the focus", focusSpy)
	b.press(kb.Enter)
	f := b.attachFrame(s)
	f.waitReady()
	f.waitFocus("rl-title")

	f.tabTo("description", 30)
	escapeForm(b)
	b.press(kb.Enter)
	f.waitFocus("rl-title")
	f.tabTo("rl-close", 3)
	b.press(kb.Enter)
	waitClosed(b)

	b.press(kb.Enter)
	f.waitFocus("rl-title")
	var inFrame, outside int
	var path []string
	for _, mods := range [][]chromedp.Modifier{nil, {chromedp.ModifierShift}} {
		for range 40 {
			in := f.tab(mods...)
			st := b.focusState()
			if !st.DialogOpen {
				t.Fatalf("%s closed the dialog", keyName(kb.Tab, mods...))
			}
			// The top document's active element is the loader's host
			// (the focus is in the shadow root or the frame), or none
			// (the body), never one of the partner page's elements.
			if !st.HostActive && !strings.HasPrefix(st.Active, "BODY") {
				t.Fatalf("%s moved the focus out of the dialog to the partner page's %s", keyName(kb.Tab, mods...), st.Active)
			}
			path = append(path, in)
			if in != "" {
				inFrame++
			} else {
				outside++
			}
		}
	}
	t.Logf("of 80 presses, %d left the focus in the form and %d outside the page: %q", inFrame, outside, path)
	if inFrame < 70 {
		t.Errorf("only %d of 80 presses left the focus in the form", inFrame)
	}
	// The focus may be in the form or past its ends, outside the page:
	// Escape closes the dialog either way (the form's rl:escape message
	// comes only from the form, and nothing here waits for it).
	b.press(kb.Escape)
	waitClosed(b)
	// What the partner page's scripts saw from the button on: the focus
	// on the loader's host, on its way to the button and the frame, and
	// nowhere else.
	if got := partnerFocus(b); slices.ContainsFunc(got, func(s string) bool { return !strings.HasPrefix(s, "DIV") }) {
		t.Errorf("the partner page's elements got the focus while the dialog was open:%s", joinLines(got))
	}
}

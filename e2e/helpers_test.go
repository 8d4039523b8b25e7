package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/reportline/reportline/report"
)

// This file holds what the tests of the button and the form share beyond
// browser_test.go: reading the loader's closed shadow root through the
// DevTools protocol, evaluating in the page or the frame, the keyboard,
// and media emulation.

func ptr[T any](v T) *T { return &v }

// waitFor calls cond until it says done, at most for d, and returns what
// it last returned.
func waitFor[T any](t *testing.T, d time.Duration, what string, cond func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		v, done := cond()
		if done {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond) // polling: cond has no event to wait on
	}
}

// eval evaluates the JavaScript expression in the document of ctx (the
// tab's, or a frame's session) and returns its value; a Promise is
// awaited. It fails the test if the evaluation fails.
func eval[T any](t *testing.T, ctx context.Context, what, js string) T {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(cctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// loaderNodes are the loader's elements, as the DevTools protocol names
// them: the page's own scripts cannot reach into the closed shadow root.
type loaderNodes struct {
	host, root, button, dialog cdp.BackendNodeID
}

// loader finds the loader's host element, the only one on the page with a
// closed shadow root, and the button and dialog inside.
func (b *browser) loader(ctx context.Context) (loaderNodes, error) {
	doc, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](`document.documentElement`))
	if err != nil {
		return loaderNodes{}, err
	}
	// DOM.describeNode, unlike DOM.getDocument, does not reset the node
	// ids chromedp keeps for the tab.
	res, err := chromedp.Call(ctx, dom.DescribeNode, dom.DescribeNodeParams{
		ObjectID: doc.ObjectID, Depth: ptr(int64(-1)), Pierce: ptr(true)})
	if err != nil {
		return loaderNodes{}, fmt.Errorf("DOM.describeNode: %w", err)
	}
	var found []loaderNodes
	var walk func(n *cdp.Node)
	walk = func(n *cdp.Node) {
		for _, sr := range n.ShadowRoots {
			if sr.ShadowRootType != cdp.ShadowRootTypeClosed {
				continue
			}
			l := loaderNodes{host: n.BackendNodeID, root: sr.BackendNodeID}
			for _, c := range sr.Children {
				switch c.NodeName {
				case "BUTTON":
					l.button = c.BackendNodeID
				case "DIALOG":
					l.dialog = c.BackendNodeID
				}
			}
			found = append(found, l)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(res.Node)
	switch {
	case len(found) == 0:
		return loaderNodes{}, errors.New("no element with a closed shadow root on the page: the loader has not run")
	case len(found) > 1:
		return loaderNodes{}, fmt.Errorf("%d elements with a closed shadow root on the page, want the loader's one", len(found))
	case found[0].button == 0 || found[0].dialog == 0:
		return loaderNodes{}, errors.New("the loader's shadow root holds no button or no dialog")
	}
	return found[0], nil
}

// buttonPoint returns the middle of the report button, if it is laid out
// and big enough to press.
func (b *browser) buttonPoint(ctx context.Context) (point, error) {
	l, err := b.loader(ctx)
	if err != nil {
		return point{}, err
	}
	box, err := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{BackendNodeID: l.button})
	if err != nil {
		return point{}, fmt.Errorf("DOM.getBoxModel of the button: %w", err)
	}
	m := box.Model
	if m == nil || len(m.Border) < 8 || m.Width < 44 || m.Height < 44 {
		return point{}, fmt.Errorf("the button is not laid out as a 44 px target yet (%+v)", m)
	}
	q := m.Border
	return point{(q[0] + q[2] + q[4] + q[6]) / 4, (q[1] + q[3] + q[5] + q[7]) / 4}, nil
}

// shadow calls the JavaScript function fn with this set to the loader's
// closed shadow root, which only the DevTools protocol can reach, and
// returns its value; a Promise is awaited.
func shadow[T any](b *browser, what, fn string) T {
	b.t.Helper()
	var v T
	b.step(what, time.Minute, func(ctx context.Context) error {
		l, err := b.loader(ctx)
		if err != nil {
			return err
		}
		obj, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: l.root})
		if err != nil {
			return fmt.Errorf("DOM.resolveNode of the shadow root: %w", err)
		}
		v, err = chromedp.Run(ctx, chromedp.CallFunctionOn[T](fn, func(p *runtime.CallFunctionOnParams) {
			p.ObjectID = obj.Object.ObjectID
			p.AwaitPromise = ptr(true)
		}))
		return err
	})
	return v
}

// focusState is where the focus is, seen from the partner page.
type focusState struct {
	// HostActive: the top document's activeElement is the loader's host,
	// which it is whenever the focus is in the shadow root or the frame.
	HostActive bool
	// Inner is the tag of the shadow root's activeElement (BUTTON, IFRAME).
	Inner string
	// DialogOpen says whether the dialog is open.
	DialogOpen bool
	// Active describes the top document's activeElement.
	Active string
}

const focusStateJS = `function () {
	const a = document.activeElement;
	return {
		HostActive: a === this.host,
		Inner: this.activeElement ? this.activeElement.tagName : "",
		DialogOpen: this.querySelector("dialog").open,
		Active: a ? a.tagName + (a.id ? "#" + a.id : "") + " " + (a.textContent || "").trim().slice(0, 30) : "",
	};
}`

func (b *browser) focusState() focusState {
	b.t.Helper()
	return shadow[focusState](b, "read where the focus is", focusStateJS)
}

// press sends keys to the tab as a keyboard does; the browser delivers
// them to whatever has the focus, in the page or in the frame.
func (b *browser) press(keys string, mods ...chromedp.Modifier) {
	b.t.Helper()
	b.step(fmt.Sprintf("press %q", keys), 30*time.Second, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.KeyEvent(keys, chromedp.KeyModifiers(mods...)))
	})
}

// keyName names a key for a log line.
func keyName(k string, mods ...chromedp.Modifier) string {
	names := map[string]string{kb.Tab: "Tab", kb.Enter: "Enter", kb.Escape: "Escape", " ": "Space",
		kb.ArrowDown: "ArrowDown", kb.ArrowUp: "ArrowUp"}
	n, ok := names[k]
	if !ok {
		n = k
	}
	if len(mods) > 0 {
		n = "Shift-" + n
	}
	return n
}

// waitFocus waits until the element with the id has the focus in the
// frame.
func (f *frame) waitFocus(id string) {
	f.b.t.Helper()
	f.step("wait for the focus on #"+id, 30*time.Second, func(ctx context.Context) error {
		for {
			got, err := f.focused(ctx)
			if err != nil {
				return err
			}
			if got == id {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the focus is on %q: %w", got, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// tabTo presses Tab (or Shift-Tab) until the element with the id has the
// focus in the frame, at most max times, and returns the names of what
// the focus passed.
func (f *frame) tabTo(id string, max int, mods ...chromedp.Modifier) []string {
	f.b.t.Helper()
	var path []string
	for range max {
		got := f.tab(mods...)
		path = append(path, got)
		if got == id {
			return path
		}
	}
	f.b.t.Fatalf("%d presses of %s did not reach #%s; the focus went %q", max, keyName(kb.Tab, mods...), id, path)
	return nil
}

// keysSeenJS counts, from the first call on in a document, the keyups the
// document sees, and returns the count. A key goes to the document that
// has the focus, and its keyup comes after the keydown's default action
// (moving the focus) is done.
const keysSeenJS = `(() => {
	if (window.__keysSeen === undefined) {
		window.__keysSeen = 0;
		addEventListener("keyup", () => { window.__keysSeen++; }, true);
	}
	return window.__keysSeen;
})()`

// focusMark is what the frame has seen of the keyboard and where its
// focus is, read at once.
type focusMark struct {
	Keys  int    // keysSeenJS
	Focus string // focusedNow
}

// focusMarkJS reads a focusMark in the frame.
const focusMarkJS = `({Keys: ` + keysSeenJS + `, Focus: ` + focusedJS + `})`

// tab presses Tab (or Shift-Tab) and returns what has the focus in the
// frame once the press has taken effect, which the keyup tells: the key
// goes to the document that has the focus, and its keyup comes after the
// keydown's default action, moving the focus, is done. The frame sees it
// when the focus is in the frame (on another element, or on the same: the
// parts of a date field share its id); the page sees it when the focus
// has left the frame. A focus that moves from the page into the frame's
// process moves a moment after that, so a focus that has moved in the
// frame counts too. On its way round from one end of the form to the
// other, the focus may be in neither for a moment: "" then.
func (f *frame) tab(mods ...chromedp.Modifier) string {
	f.b.t.Helper()
	before := evalFrame[focusMark](f, "read the frame's focus", focusMarkJS)
	pageBefore := evalPage[int](f.b, "count the page's keys", keysSeenJS)
	f.b.press(kb.Tab, mods...)
	var got string
	f.step(fmt.Sprintf("wait for %s to move the focus from %q", keyName(kb.Tab, mods...), before.Focus), time.Minute, func(ctx context.Context) error {
		pctx, cancel := context.WithTimeout(f.b.ctx, time.Minute)
		defer cancel()
		for {
			now, err := chromedp.Run(ctx, chromedp.Evaluate[focusMark](focusMarkJS))
			if err != nil {
				return err
			}
			got = now.Focus
			if now.Keys > before.Keys || (got != "" && got != before.Focus) {
				return nil
			}
			page, err := chromedp.Run(pctx, chromedp.Evaluate[int](keysSeenJS))
			if err != nil {
				return err
			}
			if page > pageBefore {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("neither the page nor the frame saw the key come up (the focus is on %q): %w", got, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return got
}

// focusedNow returns a name for what has the focus in the frame: its id,
// or its tag and text, or "" when the frame does not have the focus.
func (f *frame) focusedNow() string {
	f.b.t.Helper()
	return eval[string](f.b.t, f.ctx, "read the frame's focus", focusedJS)
}

// focusedJS is focusedNow's expression.
const focusedJS = `(() => {
	const a = document.activeElement;
	if (!document.hasFocus() || !a || a === document.body) return "";
	return a.id || a.tagName.toLowerCase() + ":" + (a.textContent || a.name || "").trim().slice(0, 30);
})()`

// evalFrame evaluates js in the frame.
func evalFrame[T any](f *frame, what, js string) T {
	f.b.t.Helper()
	return eval[T](f.b.t, f.ctx, what, js)
}

// evalPage evaluates js in the partner page, as any script of the page
// could.
func evalPage[T any](b *browser, what, js string) T {
	b.t.Helper()
	return eval[T](b.t, b.ctx, what, js)
}

// emulateMedia sets CSS media features (prefers-reduced-motion,
// forced-colors) for the tab and the frame, as the operating system's
// settings do.
func emulateMedia(t *testing.T, ctxs []context.Context, features ...*emulation.MediaFeature) {
	t.Helper()
	for _, ctx := range ctxs {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := chromedp.Call(cctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
		cancel()
		if err != nil {
			t.Fatalf("Emulation.setEmulatedMedia: %v", err)
		}
	}
}

// saveScreenshot saves what the tab shows as artifacts/name, frame
// included, and returns the path.
func (b *browser) saveScreenshot(name string) string {
	b.t.Helper()
	var png []byte
	b.step("screenshot "+name, 30*time.Second, func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		return err
	})
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(artifacts, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: e2e/%s", path)
	return path
}

// consoleLines returns what the page and the frame have written to the
// console so far.
func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// catalog returns the messages of a locale.
func catalog(t *testing.T, locale string) report.Catalog {
	t.Helper()
	c, err := report.LoadCatalog(locale)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// quoteJS quotes s as a JavaScript string literal.
func quoteJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// joinLines formats a list for a failure message.
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return "(none)"
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}

// axNode is what the browser's accessibility tree, which screen readers
// read, says of one element.
type axNode struct {
	Role, Name, Description string
	Props                   map[string]string // focusable, invalid, live, modal, …
}

// axValue turns an accessibility value into text.
func axValue(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var x any
	if err := json.Unmarshal(v.Value, &x); err != nil {
		return string(v.Value)
	}
	return fmt.Sprint(x)
}

// axOf returns the accessibility node of an element, named by its backend
// node id, or by the JavaScript expression js, evaluated in ctx's document.
func axOf(t *testing.T, ctx context.Context, what string, backend cdp.BackendNodeID, js string) axNode {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p := accessibility.GetPartialAXTreeParams{BackendNodeID: backend, FetchRelatives: ptr(false)}
	if js != "" {
		obj, err := chromedp.Run(cctx, chromedp.Evaluate[*runtime.RemoteObject](js))
		if err != nil {
			t.Fatalf("accessibility of %s: %v", what, err)
		}
		p.ObjectID = obj.ObjectID
	}
	res, err := chromedp.Call(cctx, accessibility.GetPartialAXTree, p)
	if err != nil {
		t.Fatalf("Accessibility.getPartialAXTree of %s: %v", what, err)
	}
	for _, n := range res.Nodes {
		if n.Ignored {
			continue
		}
		a := axNode{Role: axValue(n.Role), Name: axValue(n.Name), Description: axValue(n.Description), Props: map[string]string{}}
		for _, pr := range n.Properties {
			a.Props[string(pr.Name)] = axValue(pr.Value)
		}
		return a
	}
	t.Fatalf("%s is not in the accessibility tree", what)
	return axNode{}
}

// chooseByArrows picks the option with the value in the focused select
// with the arrow keys, as a keyboard user does: on a closed select,
// ArrowDown and ArrowUp change the choice without opening the popup.
func (f *frame) chooseByArrows(id, value string) {
	f.b.t.Helper()
	f.waitFocus(id)
	delta := evalFrame[int](f, "find option "+value+" of #"+id, fmt.Sprintf(`(() => {
		const s = document.getElementById(%s);
		const i = [...s.options].findIndex(o => o.value === %s);
		return i < 0 ? 1e6 : i - s.selectedIndex;
	})()`, quoteJS(id), quoteJS(value)))
	if delta == 1e6 {
		f.b.t.Fatalf("#%s has no option %q", id, value)
	}
	key := kb.ArrowDown
	if delta < 0 {
		key, delta = kb.ArrowUp, -delta
	}
	for range delta {
		f.b.press(key)
	}
	if got := f.value(id); got != value {
		f.b.t.Fatalf("after %d presses of %s on #%s it holds %q, want %q", delta, keyName(key), id, got, value)
	}
}

// switchLanguage switches the form to another language in its own menu,
// with the keyboard, and waits until the page is in that language.
func (f *frame) switchLanguage(locale string) {
	f.b.t.Helper()
	// The menu's label is visually hidden: the focus gets there with the
	// keyboard, from the form's title.
	evalFrame[bool](f, "focus the form's title", `(document.getElementById("rl-title").focus(), true)`)
	f.tabTo("rl-lang", 3)
	f.chooseByArrows("rl-lang", locale)
	f.step("wait for the form in "+locale, time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
			`document.documentElement.lang === %s && document.getElementById("rl-title").textContent === %s`,
			quoteJS(locale), quoteJS(catalog(f.b.t, locale).T("form.title"))),
			chromedp.WithPollingTimeout(0)))
		return err
	})
}

// waitReceipt waits until the frame shows the receipt, and fails early if
// the frame logs an error: the module logs a failed send to the console.
func (f *frame) waitReceipt() {
	f.b.t.Helper()
	status := func() string {
		s, _ := chromedp.Run(f.ctx, chromedp.Evaluate[string](`document.getElementById("rl-status").textContent`))
		return s
	}
	f.step("wait for the receipt", 2*time.Minute, func(ctx context.Context) error {
		for {
			shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("rl-receipt").hidden`))
			if err != nil {
				return fmt.Errorf("%w (status %q)", err, status())
			}
			if shown {
				return nil
			}
			if errs := f.b.errorsInFrame(); len(errs) > 0 {
				return fmt.Errorf("the frame logged %q (status %q)", errs, status())
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("no receipt: %w (status %q)", ctx.Err(), status())
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
}

// requestsBefore makes the document of ctx (the page's or the frame's
// session) request a marked address on its own origin, waits until the
// browser reports that request, and returns the requests reported from
// index from up to it. A document's requests are reported in the order it
// starts them, so these are all it started before the marked one: a
// negative check ("Send sent nothing") that waits for an event instead of
// a while.
func (b *browser) requestsBefore(ctx context.Context, where string, from int) []request {
	b.t.Helper()
	mark := fmt.Sprintf("/healthz?mark=%d", time.Now().UnixNano())
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		fmt.Sprintf(`(fetch(location.origin + %s, {cache: "no-store"}).catch(() => {}), true)`, quoteJS(mark)))); err != nil {
		b.t.Fatalf("request the mark %s: %v", mark, err)
	}
	var before []request
	b.step("wait for the request of the mark "+mark, time.Minute, func(ctx context.Context) error {
		for {
			b.mu.Lock()
			for i := from; i < len(b.requests); i++ {
				if strings.HasSuffix(b.requests[i].url, mark) {
					before = append([]request(nil), b.requests[from:i]...)
					b.mu.Unlock()
					return nil
				}
			}
			b.mu.Unlock()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	var mine []request
	for _, r := range before {
		if r.where == where {
			mine = append(mine, r)
		}
	}
	return mine
}

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	cdpinput "github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/reportline/reportline/examples/stack"
)

// browser is one headless Chromium with one tab, for one test.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab; it has no deadline, each step sets its own

	mu          sync.Mutex
	console     []string     // what the page and the frame wrote to the console
	frameErrors []string     // the errors and exceptions among them from the frame
	requests    []request    // every request the page and the frame made
	setCookies  []string     // every Set-Cookie header any response carried
	output      bytes.Buffer // what Chromium wrote to stdout and stderr
}

// request is one request the browser made, seen in the tab's or the
// frame's session, with the Referer it carried ("" for none).
type request struct{ where, method, url, referer, priority string }

// browserConfig is how newBrowser starts Chromium.
type browserConfig struct {
	lang string // the browser's language (--lang), as a person sets it
}

// browserOption changes how newBrowser starts Chromium.
type browserOption func(*browserConfig)

// withLang starts Chromium with another language than en-US (--lang, and
// --accept-lang, which a headless Chromium needs to send it as
// Accept-Language and show it as navigator.languages).
func withLang(lang string) browserOption { return func(c *browserConfig) { c.lang = lang } }

// Write keeps Chromium's output; the allocator writes from its own
// goroutine.
func (b *browser) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.output.Write(p)
}

// newBrowser starts Chromium with a fresh profile. When the test ends it
// saves a screenshot if the test failed, prints the console, and stops the
// browser.
func newBrowser(t *testing.T, options ...browserOption) *browser {
	t.Helper()
	cfg := browserConfig{lang: "en-US"}
	for _, o := range options {
		o(&cfg)
	}
	b := &browser{t: t}
	os.Remove(b.artifact("failure")) // from an earlier run
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", cfg.lang),
		chromedp.Flag("accept-lang", cfg.lang),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(b),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen("page")))
	// Once only: a second call after a cancel during the start would wait
	// for a browser that never was.
	cancelCtx := sync.OnceFunc(cancel)
	b.ctx = ctx
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser. Its context bounds the browser's
	// life, so it has no deadline; a timer cancels it if Chromium hangs.
	start := time.Now()
	hung := time.AfterFunc(time.Minute, cancelCtx)
	err := chromedp.Do(ctx)
	if !hung.Stop() {
		err = fmt.Errorf("no answer within a minute (%v)", err)
	}
	if err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		t.Fatalf("failed to start Chromium: %v\n%s", err, b.outputTail())
	}
	t.Logf("Chromium started in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		b.screenshot("failure")
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.console) == 0 {
			b.console = []string{"(nothing)"}
		}
		t.Logf("--- browser console:\n%s", strings.Join(b.console, "\n"))
		t.Logf("--- Chromium's output:\n%s", b.outputTail())
	})
	return b
}

// errorsInFrame returns the errors and exceptions the frame has logged.
func (b *browser) errorsInFrame() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.frameErrors)
}

// outputTail returns the last lines of Chromium's output, without the
// complaints about D-Bus, which a container does not run. The caller holds
// b.mu.
func (b *browser) outputTail() string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(b.output.String()), "\n") {
		if !strings.Contains(line, "dbus") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-50):], "\n")
}

// listen returns a listener that keeps console messages, the browser's
// log entries (failed requests, CSP violations) and uncaught exceptions,
// named by where they came from.
func (b *browser) listen(where string) func(ev any) {
	return func(ev any) {
		var line string
		bad := false // an error or an exception
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			line = fmt.Sprintf("%s console.%s: %s", where, ev.Type, strings.Join(args, " "))
			bad = ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert
		case *cdplog.EventEntryAdded:
			e := ev.Entry
			line = fmt.Sprintf("%s %s %s: %s %s", where, e.Source, e.Level, e.Text, e.URL)
			// A 429 or 503 is the relay asking the form to wait and send
			// again, which the form does by itself (formstate.Retry): the
			// browser logs it as a failed load, but it is not an error. Had
			// the form not retried, no receipt would come and the test
			// waiting for it still fails.
			bad = e.Level == cdplog.EntryLevelError && !retryable(e)
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			line = fmt.Sprintf("%s exception: %s", where, d.Text)
			if d.Exception != nil {
				line += " " + d.Exception.Description
			}
			bad = true
		case *network.EventRequestWillBeSent:
			b.mu.Lock()
			defer b.mu.Unlock()
			referer, _ := ev.Request.Headers["Referer"].(string)
			priority, _ := ev.Request.Headers["Report-Priority"].(string)
			b.requests = append(b.requests, request{where, ev.Request.Method, ev.Request.URL, referer, priority})
			return
		case *network.EventResponseReceived:
			b.keepSetCookies(ev.Response.URL, ev.Response.Headers)
			return
		case *network.EventResponseReceivedExtraInfo:
			b.keepSetCookies("", ev.Headers)
			return
		default:
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.console = append(b.console, line)
		if bad && where == "frame" {
			b.frameErrors = append(b.frameErrors, line)
		}
	}
}

// reportPriorities returns the Report-Priority header ("" for none) of
// every report the browser has posted so far.
func (b *browser) reportPriorities() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var marked []string
	for _, rq := range b.requests {
		if rq.method == "POST" && strings.Contains(rq.url, "/reports/") {
			marked = append(marked, rq.priority)
		}
	}
	return marked
}

// retryable reports whether a log entry is the browser's note of a
// response the form retries by itself: a 429 or 503 from the relay.
func retryable(e *cdplog.Entry) bool {
	return e.Source == cdplog.EntrySourceNetwork &&
		(strings.Contains(e.Text, "status of 429") || strings.Contains(e.Text, "status of 503"))
}

// keepSetCookies keeps the Set-Cookie headers among a response's headers.
func (b *browser) keepSetCookies(url string, h network.Headers) {
	for name, v := range h {
		if strings.EqualFold(name, "Set-Cookie") {
			b.mu.Lock()
			b.setCookies = append(b.setCookies, fmt.Sprintf("%s: %v", url, v))
			b.mu.Unlock()
		}
	}
}

// step runs fn with a deadline and fails the test with what if it fails.
func (b *browser) step(what string, d time.Duration, fn func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := fn(ctx); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// artifacts is where screenshots go for people to look at (git-ignored).
const artifacts = "artifacts"

// screenshot saves what the tab shows, cross-origin frame included, as
// artifacts/TEST-NAME.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := b.artifact(name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: e2e/%s", path)
}

// artifact is the path of the test's screenshot with the name.
func (b *browser) artifact(name string) string {
	return filepath.Join(artifacts, strings.ReplaceAll(b.t.Name(), "/", "_")+"-"+name+".png")
}

// point is a position in the tab's viewport, in CSS pixels.
type point struct{ X, Y float64 }

// openReportForm opens the partner page and clicks the report button as a
// person does, with the mouse. The button is in a closed shadow root, so
// the page cannot see into it, but the DevTools protocol can: the click
// goes to the middle of the button. It returns the report frame, which
// the relay serves from another site (127.0.0.1, the page is on
// localhost), so Chromium runs it in its own process as an "iframe"
// target.
func (b *browser) openReportForm(s *stack.Stack) *frame {
	b.t.Helper()
	b.openPage(s.PartnerURL)
	b.clickButton()
	return b.attachFrame(s)
}

// openPage opens a partner page and waits until the loader has drawn the
// report button.
func (b *browser) openPage(url string) {
	b.t.Helper()
	b.step("open the partner page "+url, time.Minute, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			return err
		}
		// A person's browser window has the focus; a headless one has it
		// only once asked, or after a click. Without it, a focus moved
		// with the keyboard alone never reaches the frame's document.
		_, err := chromedp.Call(ctx, page.BringToFront, cdp.Empty{})
		return err
	})
	b.step("find the report button", time.Minute, func(ctx context.Context) error {
		for {
			p, err := b.buttonPoint(ctx)
			if err == nil {
				b.t.Logf("the report button is at (%.0f, %.0f)", p.X, p.Y)
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (%v)", ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// clickButton clicks the report button with the mouse.
func (b *browser) clickButton() {
	b.t.Helper()
	b.step("click the report button", 30*time.Second, func(ctx context.Context) error {
		p, err := b.buttonPoint(ctx)
		if err != nil {
			return err
		}
		return chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y), chromedp.MouseClickXY(p.X, p.Y))
	})
}

// attachFrame waits for the report frame's target and attaches to it.
func (b *browser) attachFrame(s *stack.Stack) *frame {
	b.t.Helper()
	prefix := s.RelayURL + "/w/"
	if s.FrameURL != "" {
		prefix = s.FrameURL // the frame the hotline hosts
	}
	return b.attachFrameAt(prefix)
}

// attachFrameAt waits for an iframe target whose address starts with
// prefix and attaches to it.
func (b *browser) attachFrameAt(prefix string) *frame {
	b.t.Helper()
	var id target.ID
	b.step("wait for the report frame", time.Minute, func(ctx context.Context) error {
		for {
			infos, err := chromedp.Targets(ctx)
			if err != nil {
				return err
			}
			for _, info := range infos {
				if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
					id = info.TargetID
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("no iframe target at %s appeared: %w", prefix, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	// Attach a session of our own to the frame's target, to read its
	// document and find where its elements are. The frame is the page's:
	// when the test ends, the session only detaches (WithDetachOnCancel),
	// instead of closing the target as chromedp does with a tab.
	fctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id),
		chromedp.WithDetachOnCancel(), chromedp.WithListener(b.listen("frame")))
	b.t.Cleanup(cancel)
	// The first run attaches; its context bounds the session's life, so it
	// has no deadline, and a timer cancels it if the attach hangs.
	hung := time.AfterFunc(time.Minute, cancel)
	err := chromedp.Do(fctx)
	if !hung.Stop() {
		err = fmt.Errorf("no answer within a minute (%v)", err)
	}
	if err != nil {
		b.t.Fatalf("attach to the report frame: %v", err)
	}
	return &frame{b: b, ctx: fctx, id: id}
}

// frame is the report form's cross-origin frame.
type frame struct {
	b   *browser
	ctx context.Context // a session on the frame's own target
	id  target.ID       // also the frame's id
}

// step is browser.step for actions in the frame.
func (f *frame) step(what string, d time.Duration, fn func(ctx context.Context) error) {
	f.b.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, d)
	defer cancel()
	if err := fn(ctx); err != nil {
		f.b.t.Fatalf("%s: %v", what, err)
	}
}

// waitReady waits until the form is shown and the module has bound to it.
func (f *frame) waitReady() {
	f.b.t.Helper()
	f.step("wait for the form to be ready", 2*time.Minute, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("rl-form"))); err != nil {
			return err
		}
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](
			`document.getElementById("rl-form").dataset.state === "ready"`,
			chromedp.WithPollingTimeout(0)))
		if ctx.Err() != nil {
			state, _ := chromedp.Run(f.ctx, chromedp.Evaluate[string](`document.getElementById("rl-form").dataset.state`))
			return fmt.Errorf("the module did not start (form state %q)", state)
		}
		return err
	})
}

// origin returns where the frame's content box is in the tab's viewport:
// the page cannot see the iframe element (closed shadow root), but the
// DevTools protocol can, in the tab's session.
func (f *frame) origin() (point, error) {
	ctx, cancel := context.WithTimeout(f.b.ctx, 30*time.Second)
	defer cancel()
	owner, err := chromedp.Call(ctx, dom.GetFrameOwner, dom.GetFrameOwnerParams{FrameID: cdp.FrameID(f.id)})
	if err != nil {
		return point{}, fmt.Errorf("DOM.getFrameOwner: %w", err)
	}
	box, err := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{BackendNodeID: owner.BackendNodeID})
	if err != nil {
		return point{}, fmt.Errorf("DOM.getBoxModel of the iframe: %w", err)
	}
	if box.Model == nil || len(box.Model.Content) < 2 {
		return point{}, errors.New("the iframe has no box")
	}
	return point{box.Model.Content[0], box.Model.Content[1]}, nil
}

// click clicks the first element that matches the CSS selector as a
// person does: the element is scrolled into view, the mouse moves to its
// middle, and the press and release go to the tab, which routes them into
// the frame by where they land.
func (f *frame) click(sel string) {
	f.b.t.Helper()
	f.step("click "+sel, time.Minute, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			return err
		}
		in, err := chromedp.Run(ctx, chromedp.Evaluate[point](fmt.Sprintf(`(() => {
			const el = document.querySelector(%q);
			el.scrollIntoView({block: "center"});
			const r = el.getBoundingClientRect();
			return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
		})()`, sel)))
		if err != nil {
			return err
		}
		o, err := f.origin()
		if err != nil {
			return err
		}
		x, y := o.X+in.X, o.Y+in.Y
		bctx, cancel := context.WithTimeout(f.b.ctx, 30*time.Second)
		defer cancel()
		return chromedp.Do(bctx, chromedp.MouseEvent(chromedp.MouseMoved, x, y), chromedp.MouseClickXY(x, y))
	})
}

// focused returns the id of the element that has the focus in the frame.
func (f *frame) focused(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string](`document.hasFocus() && document.activeElement ? document.activeElement.id : ""`))
}

// typeText types text with key events sent to the tab, which delivers
// them to the focused element, as a keyboard does. The element with the id
// must have the focus.
func (f *frame) typeText(id, text string) {
	f.b.t.Helper()
	f.step("type into #"+id, 2*time.Minute, func(ctx context.Context) error {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		// The click or the module moves the focus; wait for it to land.
		for {
			got, err := f.focused(fctx)
			if err != nil {
				return err
			}
			if got == id {
				break
			}
			select {
			case <-fctx.Done():
				return fmt.Errorf("#%s does not have the focus (#%s has)", id, got)
			case <-time.After(20 * time.Millisecond):
			}
		}
		bctx, cancel := context.WithTimeout(f.b.ctx, time.Minute)
		defer cancel()
		return chromedp.Do(bctx, chromedp.KeyEvent(text, steadyTypist()))
	})
}

// steadyTypist stamps each key event 10 ms after the one before, as a
// person typing steadily would, however long the loaded machine takes to
// send them. A select's type-ahead search starts again after a second
// without a key, by the events' times: without the stamps, a stall
// between two letters chose another option.
func steadyTypist() chromedp.KeyOption {
	next := time.Now()
	return func(p *cdpinput.DispatchKeyEventParams) {
		p.Timestamp = cdpinput.TimeSinceEpoch(float64(next.UnixNano()) / 1e9)
		next = next.Add(10 * time.Millisecond)
	}
}

// value returns the current value of the form control with the id.
func (f *frame) value(id string) string {
	f.b.t.Helper()
	var v string
	f.step("read #"+id, 30*time.Second, func(ctx context.Context) error {
		var err error
		v, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).value`, id)))
		return err
	})
	return v
}

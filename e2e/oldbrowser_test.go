package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/reportline/reportline/examples/stack"
)

// withoutHas is what a browser that does not know :has() makes of the
// frame's style sheets: it drops every rule whose selector list holds
// one (a selector it cannot parse invalidates the whole list), as
// Firefox before 121 and Safari before 15.4 do. It returns how many it
// dropped.
const withoutHas = `(() => {
	let dropped = 0;
	for (const sheet of document.styleSheets) {
		for (let i = sheet.cssRules.length - 1; i >= 0; i--) {
			const r = sheet.cssRules[i];
			if (r.selectorText && r.selectorText.includes(":has(")) { sheet.deleteRule(i); dropped++; }
		}
	}
	return dropped;
})()`

// shown says whether each of the buttons only the module acts on is
// drawn: "I have a receipt code" and "Add another address".
const shown = `(() => ({
	HaveCode: document.getElementById("rl-have-code").getClientRects().length > 0,
	Add: document.getElementById("locations-add").getClientRects().length > 0,
	State: document.getElementById("rl-form").dataset.state,
}))()`

type moduleButtons struct {
	HaveCode, Add bool
	State         string
}

// TestButtonsWaitForModuleWithoutHas: in a browser without :has(), the
// buttons only the module acts on ("I have a receipt code", "Add another
// address") are still hidden while the module is on its way, where a
// click would do nothing, and shown once it is ready. The module is held
// back at the network until the test has looked.
func TestButtonsWaitForModuleWithoutHas(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.FollowUp = true })
	b := newBrowser(t)
	held := make(chan fetch.RequestID, 16)
	var firstOnce sync.Once
	first := make(chan struct{})
	b.step("hold the module back", time.Minute, func(ctx context.Context) error {
		if err := chromedp.Listen(b.ctx, func(ev any) {
			if e, ok := ev.(*fetch.EventRequestPaused); ok {
				held <- e.RequestID
				firstOnce.Do(func() { close(first) })
			}
		}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "*.wasm", RequestStage: fetch.RequestStageRequest}}})
		return err
	})
	release := make(chan struct{})
	go func() {
		select {
		case <-release:
		case <-b.ctx.Done():
			return
		}
		for {
			select {
			case id := <-held:
				chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
			case <-b.ctx.Done():
				return
			}
		}
	}()

	// Not chromedp.Navigate: the load event waits for the module, which
	// is held.
	u := s.RelayURL + "/w/demo-site?l=en"
	b.step("open "+u, time.Minute, func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: u}); err != nil {
			return err
		}
		// The deferred boot script has run once the page is interactive,
		// and the style sheet, which it waits for, is in.
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState !== "loading" && document.styleSheets.length > 0`,
			chromedp.WithPollingTimeout(0)))
		return err
	})
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("the module was not requested within a minute")
	}
	dropped := evalPage[int](b, "drop the rules with :has()", withoutHas)
	t.Logf("rules with :has() dropped: %d", dropped)
	before := evalPage[moduleButtons](b, "read the buttons before the module", shown)
	if before.State != "loading" {
		t.Fatalf("the form is %q while its module is held back, want loading", before.State)
	}
	if before.HaveCode || before.Add {
		t.Errorf("before the module is ready, without :has(): %+v; want both buttons hidden", before)
	}

	close(release)
	b.step("wait for the module", 2*time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("rl-form").dataset.state === "ready"`,
			chromedp.WithPollingTimeout(0)))
		return err
	})
	// Shown once ready: the boot script reveals the one outside the form
	// as the module's state changes, in the same turn of events or the next.
	b.step("wait for the buttons", time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("rl-have-code").getClientRects().length > 0 &&
			document.getElementById("locations-add").getClientRects().length > 0`, chromedp.WithPollingTimeout(0)))
		return err
	})
}

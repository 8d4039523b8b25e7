package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/reportline/reportline/examples/stack"
)

// reportPage is the hotline's own report page in the stack's configuration.
const reportPage = "https://hotline.example.org/report"

// framePage opens the report frame's page at the top of a tab, after
// prepare has set the tab up (a script to run first, JavaScript off, …).
// The frame is a target of its own only inside the partner page, where a
// test cannot change it before it loads; alone in a tab, it is the same
// page from the same relay.
func framePage(t *testing.T, s *stack.Stack, b *browser, prepare func(ctx context.Context) error) {
	t.Helper()
	u := s.RelayURL + "/w/demo-site?l=en"
	b.step("open "+u, time.Minute, func(ctx context.Context) error {
		if err := prepare(ctx); err != nil {
			return err
		}
		return chromedp.Do(ctx, chromedp.Navigate(u))
	})
}

// TestWithoutWebAssembly: in a browser without WebAssembly, or where the
// module cannot load, the form says so and shows a link to the hotline's
// own report page, and Send sends nothing.
func TestWithoutWebAssembly(t *testing.T) {
	s := startStack(t)
	for _, c := range []struct {
		name    string
		prepare func(ctx context.Context) error
	}{
		{"no WebAssembly", func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.WebAssembly`})
			return err
		}},
		{"the module blocked", func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
				URLPatterns: []*network.BlockPattern{{URLPattern: s.RelayURL + "/*.wasm", Block: true}}})
			return err
		}},
	} {
		t.Logf("%s", c.name)
		b := newBrowser(t)
		framePage(t, s, b, c.prepare)
		b.step("wait for the form to give up", time.Minute, func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("rl-form").dataset.state === "failed"`,
				chromedp.WithPollingTimeout(0)))
			return err
		})
		type fallback struct {
			Visible     bool
			Href, Text  string
			Status      string
			WebAssembly string
		}
		got := evalPage[fallback](b, "read the fallback", `(() => {
			const p = document.getElementById("rl-nowasm"), a = p.querySelector("a");
			return {Visible: !p.hidden && p.getClientRects().length > 0 && a.getClientRects().length > 0,
				Href: a.href, Text: p.textContent, Status: document.getElementById("rl-status").textContent,
				WebAssembly: typeof WebAssembly};
		})()`)
		t.Logf("%s: WebAssembly is %s; the page says %q", c.name, got.WebAssembly, got.Text)
		en := catalog(t, "en")
		if !got.Visible || got.Href != reportPage || !strings.Contains(got.Text, en.T("nojs.text")) || got.Status != en.T("form.failed") {
			t.Errorf("%s: the fallback is %+v; want a visible link to %s and the status %q", c.name, got, reportPage, en.T("form.failed"))
		}
		b.saveScreenshot("form-" + strings.ReplaceAll(c.name, " ", "-") + ".png")
		runAxe(t, b.ctx, "the form "+c.name)

		// Send sends nothing, and says why.
		b.mu.Lock()
		before := len(b.requests)
		b.mu.Unlock()
		if !evalPage[bool](b, "type and press Send", `(() => {
			const form = document.getElementById("rl-form");
			let prevented = null;
			form.addEventListener("submit", e => { prevented = e.defaultPrevented; });
			document.getElementById("locations-0").value = "https://example.org/x";
			document.getElementById("rl-submit").click();
			return prevented;
		})()`) {
			t.Errorf("%s: Send was not stopped: the browser would submit the form", c.name)
		}
		if after := b.requestsBefore(b.ctx, "page", before); len(after) > 0 {
			t.Errorf("%s: Send made requests: %v", c.name, after)
		}
	}
}

// TestWithoutJavaScript: with JavaScript off, the form's page shows the
// <noscript> link to the hotline's own report page (and Send cannot send
// what was typed anywhere: the CSP's form-action 'none' stops the form),
// and the partner page keeps its plain link, as the guide for site owners
// asks.
func TestWithoutJavaScript(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	noJS := func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}
	framePage(t, s, b, noJS)
	checkLinkShown(t, b, "the form without JavaScript", ".nojs a", reportPage)
	b.saveScreenshot("form-no-javascript.png")

	// Typed, and sent with Enter: the browser refuses to submit the form,
	// and says so in the console: the event this waits for.
	b.step("type an address and press Enter", 30*time.Second, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Focus(chromedp.ID("locations-0")), chromedp.KeyEvent("https://example.org/secret-path\r"))
	})
	b.step("wait for the CSP's refusal of the submission", time.Minute, func(ctx context.Context) error {
		for {
			for _, line := range b.consoleLines() {
				if strings.Contains(line, "form-action") {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("no CSP refusal of the form's submission in the console: %w", ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	b.mu.Lock()
	for _, r := range b.requests {
		if strings.Contains(r.url, "secret-path") {
			t.Errorf("without JavaScript, Send requested %s", r.url)
		}
	}
	b.mu.Unlock()

	b2 := newBrowser(t)
	b2.step("open the partner page without JavaScript", time.Minute, func(ctx context.Context) error {
		if err := noJS(ctx); err != nil {
			return err
		}
		return chromedp.Do(ctx, chromedp.Navigate(s.PartnerURL))
	})
	checkLinkShown(t, b2, "the partner page without JavaScript", "footer noscript a, footer a", reportPage)
	b2.saveScreenshot("partner-no-javascript.png")
}

// checkLinkShown checks, with the DOM domain alone (no script runs in the
// page), that an element matching sel is laid out and links to href.
func checkLinkShown(t *testing.T, b *browser, where, sel, href string) {
	t.Helper()
	b.step("find the link on "+where, 30*time.Second, func(ctx context.Context) error {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.AttributeValue("href") != href {
				continue
			}
			box, err := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{BackendNodeID: n.BackendNodeID})
			if err != nil || box.Model == nil || box.Model.Width == 0 || box.Model.Height == 0 {
				return fmt.Errorf("the link to %s is there but not shown (%v)", href, err)
			}
			return nil
		}
		return fmt.Errorf("no link to %s among %d elements matching %q", href, len(nodes), sel)
	})
}

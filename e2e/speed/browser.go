package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// chromiumFlags are the flags every run starts Chromium with, besides the
// language, the window size, and the fresh --user-data-dir and the
// debugging port that chromedp adds. They are the ones docs/speed.md lists.
var chromiumFlags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// topScript runs in the partner page (the top document) before its own
// scripts: it notes the time of every click, as the page's clock gives it,
// and every layout shift from the start.
const topScript = `(() => {
  if (window !== window.top) return;
  const s = window.__speed = {clicks: [], shifts: []};
  addEventListener("click", e => { s.clicks.push([performance.timeOrigin + e.timeStamp, performance.timeOrigin + performance.now()]); }, true);
  try {
    new PerformanceObserver(l => {
      for (const e of l.getEntries()) s.shifts.push({value: e.value, recentInput: e.hadRecentInput, at: e.startTime});
    }).observe({type: "layout-shift", buffered: true});
  } catch (e) { s.shiftError = String(e); }
})();`

// frameScript runs in every cross-site frame before its own scripts. At
// each rendering frame it notes whether the first field, #locations-0,
// exists and is enabled, and it keeps the first contentful paint.
const frameScript = `(() => {
  const s = window.__speed = {samples: [], fcp: null};
  const field = () => {
    const el = document.getElementById("locations-0");
    return {at: performance.now(), exists: !!el, enabled: !!el && !el.disabled && !el.matches(":disabled")};
  };
  let n = 0;
  const tick = () => {
    const f = field();
    s.samples.push(f);
    if (n++ < 1200 && !(s.fcp !== null && f.exists && f.enabled)) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver(l => {
    for (const e of l.getEntries()) if (e.name === "first-contentful-paint" && s.fcp === null) s.fcp = e.startTime;
  }).observe({type: "paint", buffered: true});
})();`

// browser is one Chromium with a fresh profile and one tab.
type browser struct {
	ctx    context.Context // the tab; no deadline, each step sets its own
	cancel func()
	tap    *tap
	out    lockedBuffer
}

// startBrowser starts Chromium with a fresh profile (chromedp makes a
// temporary --user-data-dir and removes it when the browser has stopped),
// installs the probe scripts and makes new frames wait for the tap.
func startBrowser(parent context.Context, exe string) (*browser, error) {
	b := &browser{}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts,
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&b.out),
		chromedp.WithDialer(func(ctx context.Context, wsURL string) (chromedp.Transport, error) {
			if !strings.HasPrefix(wsURL, "ws://127.0.0.1:") {
				return nil, fmt.Errorf("Chromium listens on %s, not on loopback", wsURL)
			}
			c, err := remote.DialContext(ctx, wsURL)
			if err != nil {
				return nil, err
			}
			b.tap = newTap(c, frameScript)
			return b.tap, nil
		}),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b.ctx = ctx
	b.cancel = func() {
		cancelCtx()
		cancelAlloc()
	}
	hung := time.AfterFunc(30*time.Second, cancelCtx)
	err := chromedp.Do(ctx)
	if !hung.Stop() {
		err = fmt.Errorf("no answer within 30s (%v)", err)
	}
	if err == nil {
		err = b.step(10*time.Second, func(ctx context.Context) error {
			if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: topScript}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, target.SetAutoAttach, target.SetAutoAttachParams{
				AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: ptr(true),
			})
			return err
		})
	}
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("failed to start Chromium: %w\n%s", err, b.out.tail())
	}
	return b, nil
}

func (b *browser) close() { b.cancel() }

// step runs fn on the tab with a deadline.
func (b *browser) step(d time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	return fn(ctx)
}

// point is a position in the tab's viewport, in CSS pixels.
type point struct{ X, Y float64 }

// open navigates the tab to u, waits for the load event and then for quiet
// network for idle (bounded), and returns where the button is: the middle
// of the loader's host element, the body's last div.
func (b *browser) open(u string, idle time.Duration) (point, error) {
	var p point
	err := b.step(20*time.Second, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
			return fmt.Errorf("failed to open %s: %w", u, err)
		}
		var err error
		p, err = chromedp.Run(ctx, chromedp.Poll[point](`(() => {
			const host = [...document.body.children].filter(e => e.tagName === "DIV").pop();
			if (!host) return null;
			const r = host.getBoundingClientRect();
			if (r.width < 20 || r.height < 20) return null;
			return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
		})()`, chromedp.WithPollingTimeout(10*time.Second)))
		if err != nil {
			return fmt.Errorf("no report button on %s: %w", u, err)
		}
		return b.quiet(ctx, idle)
	})
	return p, err
}

// quiet waits until no request has started for d, for at most d+5s.
func (b *browser) quiet(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d + 5*time.Second)
	for time.Now().Before(deadline) {
		wait := time.Until(b.tap.lastRequest().Add(d))
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil // a page that never goes quiet is measured as it is
}

// hover moves the mouse onto p, which is intent for the loader.
func (b *browser) hover(p point) error {
	return b.step(5*time.Second, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y))
	})
}

// click presses and releases the left button at p. Chromium first moves
// the pointer there, so the page sees pointerenter just before the press,
// as it does when a person clicks.
func (b *browser) click(p point) error {
	return b.step(5*time.Second, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y))
	})
}

// evalTop evaluates expr in the partner page.
func evalTop[T any](b *browser, expr string) (T, error) {
	var v T
	err := b.step(10*time.Second, func(ctx context.Context) error {
		var err error
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		return err
	})
	return v, err
}

// evalFrame evaluates expr in the frame.
func evalFrame[T any](b *browser, f *frameSession, expr string) (T, error) {
	var v T
	err := b.step(10*time.Second, func(ctx context.Context) error {
		return b.tap.eval(ctx, f, expr, &v)
	})
	return v, err
}

// pollFrame evaluates expr in the frame until it is not null, for at most d.
func pollFrame[T any](b *browser, f *frameSession, expr string, d time.Duration) (T, error) {
	deadline := time.Now().Add(d)
	for {
		v, err := evalFrame[*T](b, f, expr)
		if err != nil {
			return *new(T), err
		}
		if v != nil {
			return *v, nil
		}
		if time.Now().After(deadline) {
			return *new(T), fmt.Errorf("%s stayed null for %s", expr, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clockSkew returns how far the frame's clock (performance.timeOrigin +
// performance.now()) is ahead of the page's, in milliseconds: Chromium
// computes the time origin per process. It brackets a reading in the frame
// between two in the page and keeps the narrowest bracket.
func (b *browser) clockSkew(f *frameSession) (float64, error) {
	const now = `performance.timeOrigin + performance.now()`
	best, width := 0.0, -1.0
	for range 5 {
		t0, err := evalTop[float64](b, now)
		if err != nil {
			return 0, err
		}
		tf, err := evalFrame[float64](b, f, now)
		if err != nil {
			return 0, err
		}
		t1, err := evalTop[float64](b, now)
		if err != nil {
			return 0, err
		}
		if w := t1 - t0; width < 0 || w < width {
			best, width = tf-(t0+t1)/2, w
		}
	}
	if width > 20 {
		return 0, fmt.Errorf("could not compare the clocks of the page and the frame: the narrowest bracket is %.1f ms", width)
	}
	return best, nil
}

// lockedBuffer keeps Chromium's output, which the allocator writes from
// its own goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// tail returns the last lines of the output, without D-Bus complaints.
func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if !strings.Contains(line, "dbus") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

func ptr[T any](v T) *T { return &v }

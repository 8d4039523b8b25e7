package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// hoverDwell is how long the pointer rests on the button before the click
// in the hover-first runs: about what a person takes from reaching a
// button to pressing it.
const hoverDwell = 300 * time.Millisecond

// plan is what one visit does and measures.
type plan struct {
	url       string        // the page with the button
	idle      time.Duration // quiet network after the load event, before intent
	hover     bool          // pointer onto the button, hoverDwell, then click
	visible   bool          // measure click → form visible and typeable
	readyMark string        // the performance mark that says the module runs
	pow       bool          // wait for the first proof of work and measure its solving
	origin    string        // the frame's origin: requests to it before intent are counted
	settle    time.Duration // first leave the page for about:blank and wait this long
}

// visit is what one visit measured. Times are in milliseconds.
type visit struct {
	preIntent        []string // URLs the page requested from the frame's origin before intent
	framesEarly      int      // frames that appeared before intent
	visible          float64  // click → max(first contentful paint, #locations-0 enabled)
	fcp              float64  // click → the frame's first contentful paint
	fieldAtFCP       bool     // #locations-0 existed, enabled, in the frame painted at FCP
	frameStart       float64  // click → the frame's navigation start (negative: before the click)
	frameResponse    float64  // click → the frame's page received
	frameParsed      float64  // click → the frame's page parsed (domInteractive)
	clickDelay       float64  // the click's timestamp → its listener ran
	pause            float64  // how long the frame waited while the tap installed its probe
	skew             float64  // the frame's clock minus the page's
	ready            float64  // the frame's navigation start → readyMark
	pow              float64  // the widget's first proof of work, solving alone (the "reportline:pow" measure)
	powKeys          float64  // how many keys it derived
	moduleStart      float64  // the frame's navigation start → the module's request
	moduleEnd        float64  // the frame's navigation start → the module received
	moduleCached     bool     // the .wasm came from the browser's cache
	shift            float64  // sum of the page's layout-shift entries
	shifts           int      // how many there were
	shiftsAfterInput int      // how many of them came right after input
}

// frameProbe is what the frame's probe script and timeline say.
type frameProbe struct {
	Origin   float64 `json:"origin"`
	FCP      float64 `json:"fcp"`
	FieldAt  float64 `json:"fieldAt"`
	AtFCP    bool    `json:"atFCP"`
	Response float64 `json:"response"` // responseEnd of the frame's page
	Parsed   float64 `json:"parsed"`   // domInteractive
}

const probeExpr = `(() => {
  const s = window.__speed;
  if (!s) throw new Error("the probe script did not run in the frame");
  if (s.fcp === null) return null;
  const f = s.samples.find(x => x.exists && x.enabled);
  if (!f) return null;
  const before = s.samples.filter(x => x.at <= s.fcp).pop();
  const nav = performance.getEntriesByType("navigation")[0] || {};
  return {origin: performance.timeOrigin, fcp: s.fcp, fieldAt: f.at, atFCP: !!before && before.exists && before.enabled,
    response: nav.responseEnd || 0, parsed: nav.domInteractive || 0};
})()`

type shiftEntry struct {
	Value       float64 `json:"value"`
	RecentInput bool    `json:"recentInput"`
}

// do runs one visit in the browser's tab.
func (b *browser) do(p plan) (visit, error) {
	var v visit
	if p.settle > 0 {
		// A second visit comes long after the first in life: let the
		// browser finish what the first left running (the module's
		// optimizing compile, cache writes) before it starts.
		if err := b.step(10*time.Second, func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Sleep(p.settle))
		}); err != nil {
			return v, err
		}
	}
	start := time.Now()
	btn, err := b.open(p.url, p.idle)
	if err != nil {
		return v, err
	}
	intent := time.Now()
	for _, r := range b.tap.requests(start, intent) {
		if u, err := url.Parse(r.url); err == nil && u.Scheme+"://"+u.Host == p.origin {
			v.preIntent = append(v.preIntent, u.Path)
		}
	}
	v.framesEarly = b.tap.framesSince(start)

	if p.hover {
		if err := b.hover(btn); err != nil {
			return v, fmt.Errorf("failed to hover the button: %w", err)
		}
		time.Sleep(hoverDwell)
	}
	if err := b.click(btn); err != nil {
		return v, fmt.Errorf("failed to click the button: %w", err)
	}
	var f *frameSession
	if err := b.step(10*time.Second, func(ctx context.Context) error {
		var err error
		f, err = b.tap.frameAfter(ctx, start)
		return err
	}); err != nil {
		return v, err
	}
	if p.visible {
		clicks, err := evalTop[[][2]float64](b, `window.__speed.clicks`)
		if err != nil {
			return v, err
		}
		if len(clicks) != 1 {
			return v, fmt.Errorf("the page saw %d clicks, not 1", len(clicks))
		}
		click := clicks[0][0]
		v.clickDelay = clicks[0][1] - click
		probe, err := pollFrame[frameProbe](b, f, probeExpr, 10*time.Second)
		if err != nil {
			return v, fmt.Errorf("the form did not show: %w %v", err, b.tap.err())
		}
		if v.skew, err = b.clockSkew(f); err != nil {
			return v, err
		}
		onPage := func(frameTime float64) float64 { return probe.Origin + frameTime - v.skew - click }
		v.frameStart, v.frameResponse, v.frameParsed = onPage(0), onPage(probe.Response), onPage(probe.Parsed)
		v.fcp = onPage(probe.FCP)
		v.visible = onPage(max(probe.FCP, probe.FieldAt))
		v.fieldAtFCP = probe.AtFCP
	}
	if p.readyMark != "" {
		expr := fmt.Sprintf(`performance.getEntriesByName(%q, "mark").map(e => e.startTime)[0] ?? null`, p.readyMark)
		if v.ready, err = pollFrame[float64](b, f, expr, 20*time.Second); err != nil {
			state, _ := evalFrame[string](b, f, `String(document.getElementById("rl-form")?.dataset.state)`)
			return v, fmt.Errorf("the module did not start (form state %s): %w", state, err)
		}
		m, err := evalFrame[[2]float64](b, f, `(() => {
		  const e = performance.getEntriesByType("resource").find(e => e.name.endsWith(".wasm"));
		  return e ? [e.startTime, e.responseEnd] : [0, 0];
		})()`)
		if err != nil {
			return v, err
		}
		v.moduleStart, v.moduleEnd = m[0], m[1]
	}
	if p.pow {
		expr := `performance.getEntriesByName("reportline:pow", "measure").map(e => [e.duration, e.detail?.keys ?? 0])[0] ?? null`
		m, err := pollFrame[[2]float64](b, f, expr, 2*time.Minute)
		if err != nil {
			return v, fmt.Errorf("the widget solved no proof of work: %w", err)
		}
		v.pow, v.powKeys = m[0], m[1]
	}
	<-f.ready
	v.pause = float64(f.pause.Microseconds()) / 1000
	for _, r := range b.tap.requests(start, time.Now()) {
		if r.session == f.id && strings.HasSuffix(r.url, ".wasm") {
			v.moduleCached = r.cached
		}
	}
	shifts, err := evalTop[[]shiftEntry](b, `window.__speed.shifts`)
	if err != nil {
		return v, err
	}
	for _, s := range shifts {
		v.shift += s.Value
		v.shifts++
		if s.RecentInput {
			v.shiftsAfterInput++
		}
	}
	return v, nil
}

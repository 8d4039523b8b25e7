package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axe-core, from npm (package.json, `npm ci`), checks a document against
// the WCAG rules that a program can check. It is injected with the
// DevTools protocol's Runtime.evaluate, which the frame's CSP (no inline
// script, no eval) does not apply to.

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript returns axe.min.js from node_modules. It fails, never skips,
// when npm ci has not been run: a check that did not run must not pass.
func axeScript(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		path := filepath.Join(build(t).root, "node_modules", "axe-core", "axe.min.js")
		b, err := os.ReadFile(path)
		if err != nil {
			axeErr = fmt.Errorf("the accessibility tests need axe-core from npm: run `npm ci` in the repository's root (%v)", err)
			return
		}
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatal(axeErr)
	}
	return axeSource
}

// axeTags are the rule sets of WCAG 2.0, 2.1 and 2.2, levels A and AA.
const axeTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]`

// axeViolation is one rule that failed, with the elements that failed it.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct {
		Target  []any
		Summary string
	}
}

// axeResult is what axe.run found.
type axeResult struct {
	Violations []axeViolation
	Passes     int      // how many rules passed
	Incomplete []string // the rules axe could not decide, for a person to check
}

// runAxe injects axe-core into the document of ctx, unless it is there,
// runs the WCAG A and AA rules on the whole document and fails the test
// with every violation. where names the step for the failure message.
func runAxe(t *testing.T, ctx context.Context, where string) axeResult {
	t.Helper()
	src := axeScript(t)
	cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(cctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		t.Fatalf("axe at %s: %v", where, err)
	}
	if !loaded {
		if _, err := chromedp.Run(cctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("failed to inject axe-core at %s: %v", where, err)
		}
	}
	// iframes: false: in the partner page, the report frame is checked
	// on its own, in its own session.
	res, err := chromedp.Run(cctx, chromedp.Evaluate[axeResult](`axe.run(document, {
		runOnly: {type: "tag", values: `+axeTags+`},
		iframes: false,
		resultTypes: ["violations"],
	}).then(r => ({
		Violations: r.violations.map(v => ({
			ID: v.id, Impact: v.impact || "", Help: v.help,
			Nodes: v.nodes.map(n => ({Target: n.target, Summary: n.failureSummary || ""})),
		})),
		Passes: r.passes.length,
		Incomplete: r.incomplete.map(v => v.id + " (" + v.nodes.length + ")"),
	}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		var ex *chromedp.ExceptionError
		if errors.As(err, &ex) {
			t.Fatalf("axe.run at %s threw: %v", where, err)
		}
		t.Fatalf("axe.run at %s: %v", where, err)
	}
	if res.Passes == 0 {
		t.Fatalf("axe at %s ran no rule", where)
	}
	t.Logf("axe at %s: %d rules passed, %d violations; needs a person's review: %s",
		where, res.Passes, len(res.Violations), strings.Join(res.Incomplete, ", "))
	for _, v := range res.Violations {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("%v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		t.Errorf("axe at %s: %s (%s): %s%s", where, v.ID, v.Impact, v.Help, joinLines(nodes))
	}
	return res
}

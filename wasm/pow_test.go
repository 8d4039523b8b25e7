//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/pow"
)

// fakeRelay replaces fetch with one that answers every request with a
// challenge from iss, dated by the relay's clock relayNow, whose solution
// is at least minNumber. It returns a function that puts the real fetch
// back.
func fakeRelay(t *testing.T, iss *pow.Issuer, maxNumber, minNumber int64, relayNow time.Time) func() {
	t.Helper()
	global := safejs.Global()
	real, _ := global.Get("fetch")
	fn, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		c, err := iss.Issue("s1", maxNumber)
		for err == nil && minNumber > 0 {
			if s, _ := pow.Solve(c, nil); s != nil && s.Number >= minNumber {
				break
			}
			c, err = iss.Issue("s1", maxNumber)
		}
		if err != nil {
			t.Error(err)
		}
		b, _ := json.Marshal(c)
		resp, _ := safejs.Global().Get("Response")
		init, _ := safejs.ValueOf(map[string]any{
			"status":  200,
			"headers": map[string]any{"Date": relayNow.UTC().Format(time.RFC1123), "Content-Type": "application/json"},
		})
		r, err := resp.New(string(b), init)
		if err != nil {
			t.Error(err)
		}
		promise, _ := safejs.Global().Get("Promise")
		p, _ := promise.Call("resolve", r)
		return p
	})
	if err != nil {
		t.Fatal(err)
	}
	global.Set("fetch", fn.Value())
	return func() { global.Set("fetch", real); fn.Release() }
}

func newIssuer(t *testing.T, now time.Time) *pow.Issuer {
	t.Helper()
	iss, err := pow.NewIssuer(pow.RandomKey(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	iss.SetClock(func() time.Time { return now })
	return iss
}

// TestSolveKeepsPageResponsive solves a challenge whose search is long
// (150,000 hashes and more: many slices on any machine) while a timer
// counts how often the page's event loop got to run: if the search held
// the thread, the timer would not fire at all.
func TestSolveKeepsPageResponsive(t *testing.T) {
	iss := newIssuer(t, time.Now())
	const minNumber = 150_000
	defer fakeRelay(t, iss, 600_000, minNumber, time.Now())()
	ticks := 0
	tick, _ := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { ticks++; return nil })
	defer tick.Release()
	id, _ := safejs.Global().Call("setInterval", tick.Value(), 1)
	defer safejs.Global().Call("clearInterval", id)

	start := time.Now()
	header, err := solveChallenge("/v1/sites/s1/challenge")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := pow.ParseSolution(header)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(sol, "s1"); err != nil {
		t.Fatalf("the relay refuses the solution: %v", err)
	}
	t.Logf("number %d in %v (%.1f µs a hash), event loop ran %d times", sol.Number, took,
		float64(took.Microseconds())/float64(sol.Number+1), ticks)
	// Not a timing bound (machines are shared and slow at times): a
	// search that never yields lets the timer run at most around the
	// challenge's fetch; one that yields lets it run again and again.
	if sol.Number < minNumber {
		t.Fatalf("solved %d, want a search of at least %d", sol.Number, minNumber)
	}
	if ticks < 3 {
		t.Fatalf("the event loop ran %d times during a search of %d hashes: the search held the page", ticks, sol.Number)
	}
}

// TestProverSkewedClock: a device whose clock is an hour ahead still
// uses the relay's proofs, since their lifetime is counted from the
// relay's Date header.
func TestProverSkewedClock(t *testing.T) {
	relayNow := time.Now().Add(-time.Hour)
	iss := newIssuer(t, relayNow)
	defer fakeRelay(t, iss, 5000, 0, relayNow)()
	p := startProver("/v1/sites/s1/challenge")
	first, err := p.take()
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.take()
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Fatal("take gave the same proof twice")
	}
	for _, h := range []string{first, second} {
		sol, err := pow.ParseSolution(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iss.Verify(sol, "s1"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestYieldWays solves with each way of yielding: Node has setImmediate,
// browsers use a MessageChannel, and anything else setTimeout.
func TestYieldWays(t *testing.T) {
	global := safejs.Global()
	for _, hide := range [][]string{nil, {"setImmediate"}, {"setImmediate", "MessageChannel"}} {
		t.Run(fmt.Sprint(hide), func(t *testing.T) {
			for _, name := range hide {
				saved, _ := global.Get(name)
				global.Set(name, safejs.Undefined())
				defer global.Set(name, saved)
			}
			y, err := newYielder()
			if err != nil {
				t.Fatal(err)
			}
			defer y.release()
			if got := y.immediate || y.ports; got != (len(hide) < 2) {
				t.Fatalf("immediate %v, ports %v with %v hidden", y.immediate, y.ports, hide)
			}
			// A microtask runs only once Go hands the thread back to
			// JavaScript: after each pause it must have run.
			ran := 0
			tick, _ := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { ran++; return nil })
			defer tick.Release()
			for i := range 5 {
				y.sliced = time.Time{} // the slice is used up: really yield
				global.Call("queueMicrotask", tick.Value())
				if err := y.pause(); err != nil {
					t.Fatal(err)
				}
				if ran != i+1 {
					t.Fatalf("pause %d returned without yielding to the event loop (%d tasks ran)", i+1, ran)
				}
			}
		})
	}
}

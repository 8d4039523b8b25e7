//go:build js && wasm

package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/pow"
)

// fakeRelay replaces fetch with one that answers every request with a
// version 2 challenge from iss, dated by the relay's clock relayNow, whose
// solution is at least minCounter. It returns a function that puts the
// real fetch back.
func fakeRelay(t *testing.T, iss *pow.Issuer, maxCounter, minCounter int64, relayNow time.Time) func() {
	t.Helper()
	global := safejs.Global()
	real, _ := global.Get("fetch")
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if url, _ := args[0].String(); !strings.HasSuffix(url, "?"+challengeQuery) {
			t.Errorf("fetched %s, not a version 2 challenge", url)
		}
		c, err := iss.IssueV2("s1", maxCounter)
		for err == nil && minCounter > 0 {
			if s, _ := pow.SolveV2(&c.Parameters, pow.DeriveKey); s != nil && s.Counter >= minCounter {
				break
			}
			c, err = iss.IssueV2("s1", maxCounter)
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

func newIssuer(t *testing.T, now time.Time, kdf pow.KDF) *pow.Issuer {
	t.Helper()
	iss, err := pow.NewIssuer(pow.RandomKey(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.SetKDF(kdf); err != nil {
		t.Fatal(err)
	}
	iss.SetClock(func() time.Time { return now })
	return iss
}

// counterOf reads the counter of a version 2 header.
func counterOf(t *testing.T, header string) int64 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(header)
	var pl pow.PayloadV2
	if err == nil {
		err = json.Unmarshal(b, &pl)
	}
	if err != nil {
		t.Fatalf("header %q: %v", header, err)
	}
	return pl.Solution.Counter
}

// TestSolveKeepsPageResponsive solves a challenge of the default
// key-derivation function whose search is long (40 keys and more, each
// thousands of hash iterations) while a timer counts how often the page's
// event loop got to run: if the search held the thread, the timer would
// not fire at all.
func TestSolveKeepsPageResponsive(t *testing.T) {
	iss := newIssuer(t, time.Now(), pow.DefaultKDF)
	const minCounter = 40
	defer fakeRelay(t, iss, 120, minCounter, time.Now())()
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
	if _, err := iss.VerifyHeader(header, "s1"); err != nil {
		t.Fatalf("the relay refuses the solution: %v", err)
	}
	n := counterOf(t, header)
	t.Logf("counter %d in %v (%.2f ms a key), event loop ran %d times", n, took,
		float64(took.Microseconds())/1000/float64(n+1), ticks)
	if n < minCounter {
		t.Fatalf("solved at %d, want a search of at least %d keys", n, minCounter)
	}
	// Not a timing bound (machines are shared and slow at times): a
	// search that never yields lets the timer run at most around the
	// challenge's fetch; one that yields lets it run again and again.
	if ticks < 3 {
		t.Fatalf("the event loop ran %d times during a search of %d keys: the search held the page", ticks, n)
	}
}

var update = flag.Bool("update", false, "write ../pow/testdata/altcha-v2-widget.json anew (then run altcha-v2-vectors.mjs)")

// widgetPayloadsFile holds the headers the widget made for the relay's
// vectors, for altcha-v2-vectors.mjs to check with altcha-lib's
// verifySolution.
const widgetPayloadsFile = "../pow/testdata/altcha-v2-widget.json"

// TestSolvesALTCHAVectors: the widget finds, for challenges that
// altcha-lib made and for the relay's own, the same counter and key as
// altcha-lib's solveChallenge, whose solutions its verifySolution
// accepted (pow/testdata/altcha-v2-vectors.mjs); and for the relay's, it
// makes the very headers that altcha-lib's verifySolution accepted
// (written with -update, checked by the script).
func TestSolvesALTCHAVectors(t *testing.T) {
	widget := map[string]string{}
	if !*update {
		b, err := os.ReadFile(widgetPayloadsFile)
		if err == nil {
			err = json.Unmarshal(b, &widget)
		}
		if err != nil || len(widget) == 0 {
			t.Fatalf("the widget's payloads: %v", err)
		}
	}
	b, err := os.ReadFile("../pow/testdata/altcha-v2-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	type vector struct {
		Name      string
		Challenge pow.ChallengeV2
		Solution  pow.SolutionV2
		Verified  bool
	}
	var vs struct{ Library, Relay []vector }
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	all := append(vs.Library, vs.Relay...)
	for i := range all {
		if i < len(vs.Library) {
			all[i].Name = "library/" + all[i].Name
		} else {
			all[i].Name = "relay/" + all[i].Name
		}
	}
	all = slices.DeleteFunc(all, func(v vector) bool { return !v.Verified }) // expired ones
	if len(all) < 5 {
		t.Fatalf("%d vectors", len(all))
	}
	for _, v := range all {
		t.Run(v.Name, func(t *testing.T) {
			derive, err := deriver(&v.Challenge.Parameters)
			if v.Challenge.Parameters.Algorithm != pow.AlgorithmPBKDF2 {
				if err == nil {
					t.Fatalf("the widget offers to derive %s keys", v.Challenge.Parameters.Algorithm)
				}
				return // not offered in the browser (docs/abuse.md)
			}
			if err != nil {
				t.Fatal(err)
			}
			sol, err := pow.SolveV2(&v.Challenge.Parameters, derive)
			if err != nil {
				t.Fatal(err)
			}
			if sol.Counter != v.Solution.Counter || sol.DerivedKey != v.Solution.DerivedKey {
				t.Fatalf("widget found %d %s, altcha-lib %d %s", sol.Counter, sol.DerivedKey, v.Solution.Counter, v.Solution.DerivedKey)
			}
			if !strings.HasPrefix(v.Name, "relay/") {
				return
			}
			b, _ := json.Marshal(v.Challenge) // as the relay sends it
			answer, err := parseJSON(string(b))
			if err != nil {
				t.Fatal(err)
			}
			header, err := encodePayload(answer, sol)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				widget[v.Name] = header
			} else if header != widget[v.Name] {
				t.Fatalf("the widget's header %s differs from the one altcha-lib checked, %s", header, widget[v.Name])
			}
		})
	}
	if *update {
		b, _ := json.MarshalIndent(widget, "", "  ")
		if err := os.WriteFile(widgetPayloadsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProverSkewedClock: a device whose clock is an hour ahead still
// uses the relay's proofs, since their lifetime is counted from the
// relay's Date header.
func TestProverSkewedClock(t *testing.T) {
	relayNow := time.Now().Add(-time.Hour)
	iss := newIssuer(t, relayNow, pow.KDF{Algorithm: pow.AlgorithmPBKDF2, Cost: 100})
	defer fakeRelay(t, iss, 50, 0, relayNow)()
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
		if _, err := iss.VerifyHeader(h, "s1"); err != nil {
			t.Fatal(err)
		}
	}
}

//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/pow"
)

// The proof of work (docs/abuse.md): the relay asks for one with each
// report, so that a flood of reports costs its sender real work, and no
// third-party CAPTCHA learns who reports.
//
// The hashing runs in Go, on the page's thread, in slices of about
// powSlice, and yields to the browser's event loop between slices, so
// typing, scrolling and screen readers are never held up for longer than
// that. Go's SHA-256 in WebAssembly takes about 2 µs a hash; awaiting
// crypto.subtle.digest takes 100-250 µs a hash through the Promise round
// trip, so hashing in slices finishes the same search some fifty times
// sooner, which matters on a phone.

// powSlice is how long the search runs before it lets the page breathe.
const powSlice = 8 * time.Millisecond

// proofFreshFor is how long a proof must still be valid to be sent: time
// for the request to reach the relay. The relay's challenges live at
// least a minute.
const proofFreshFor = 20 * time.Second

// solveChallenge fetches a challenge from the relay and solves it off the UI thread, returning the value for the request header.
//
// It waits for Promises and yields to the event loop, so it must run in a
// goroutine, never in a callback. The header is [pow.Header].
func solveChallenge(challengeURL string) (header string, err error) {
	sol, _, err := solveFrom(challengeURL)
	if err != nil {
		return "", err
	}
	return sol.Encode(), nil
}

// solveFrom fetches and solves a challenge, and returns when it expires
// by this device's clock.
func solveFrom(challengeURL string) (*pow.Solution, time.Time, error) {
	fetched := time.Now()
	c, relayNow, err := fetchChallenge(challengeURL)
	if err != nil {
		return nil, time.Time{}, err
	}
	expires, err := pow.ParseChallenge(c)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !relayNow.IsZero() {
		// The device's clock may be wrong: count the challenge's life
		// from the relay's Date header instead.
		expires = fetched.Add(expires.Sub(relayNow))
	}
	y, err := newYielder()
	if err != nil {
		return nil, time.Time{}, err
	}
	defer y.release()
	sol, err := pow.Solve(c, y.pause)
	if err != nil {
		return nil, time.Time{}, err
	}
	return sol, expires, nil
}

// fetchChallenge GETs a challenge from the relay, and returns it with the
// relay's time (its Date header), or zero if it sent none.
func fetchChallenge(url string) (*pow.Challenge, time.Time, error) {
	opts, err := safejs.ValueOf(map[string]any{"method": "GET", "credentials": "omit", "cache": "no-store"})
	if err != nil {
		return nil, time.Time{}, err
	}
	p, err := safejs.Global().Call("fetch", url, opts)
	if err != nil {
		return nil, time.Time{}, err
	}
	resp, err := await(p)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("failed to fetch a challenge: network error: %w", err)
	}
	textP, err := resp.Call("text")
	if err != nil {
		return nil, time.Time{}, err
	}
	textV, err := await(textP)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("failed to fetch a challenge: %w", err)
	}
	text, _ := textV.String()
	answer, jerr := parseJSON(text) // the browser's parser: no encoding/json in the module
	statusV, _ := resp.Get("status")
	if status, _ := statusV.Int(); status != 200 {
		if jerr == nil && getString(answer, "title") != "" {
			return nil, time.Time{}, fmt.Errorf("failed to fetch a challenge: %s (%s)", getString(answer, "title"), getString(answer, "detail"))
		}
		return nil, time.Time{}, fmt.Errorf("failed to fetch a challenge: HTTP %d", status)
	}
	if jerr != nil {
		return nil, time.Time{}, fmt.Errorf("failed to read the challenge: %w", jerr)
	}
	maxV, err := answer.Get("maxnumber")
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("failed to read the challenge: %w", err)
	}
	maxN, err := maxV.Float()
	if err != nil || maxN != math.Trunc(maxN) || maxN < 0 {
		return nil, time.Time{}, fmt.Errorf("failed to read the challenge: maxnumber is not a whole number")
	}
	c := pow.Challenge{
		Algorithm: getString(answer, "algorithm"), Challenge: getString(answer, "challenge"),
		MaxNumber: int64(maxN), Salt: getString(answer, "salt"), Signature: getString(answer, "signature"),
	}
	return &c, relayTime(resp), nil
}

// relayTime reads a fetch Response's Date header.
func relayTime(resp safejs.Value) time.Time {
	headers, err := resp.Get("headers")
	if err != nil {
		return time.Time{}
	}
	v, err := headers.Call("get", "Date")
	if err != nil || v.IsNull() {
		return time.Time{}
	}
	s, _ := v.String()
	t, err := time.Parse(time.RFC1123, s) // HTTP's date format, always GMT
	if err != nil {
		return time.Time{}
	}
	return t
}

// yielder lets the page run its event loop between slices of work, the
// way React's scheduler does: with setImmediate where there is one (Node),
// else by posting a message to itself on a MessageChannel (browsers: a
// task without setTimeout's 4 ms clamp), else with setTimeout.
type yielder struct {
	fn        safejs.Func
	immediate bool         // setImmediate exists
	ports     bool         // a MessageChannel is set up
	port      safejs.Value // the port messages are posted to
	other     safejs.Value // the port that receives them
	ch        chan struct{}
	sliced    time.Time
}

func newYielder() (*yielder, error) {
	y := &yielder{ch: make(chan struct{}, 1), sliced: time.Now()}
	fn, err := callback("proof of work", func(safejs.Value, []safejs.Value) error {
		select {
		case y.ch <- struct{}{}:
		default:
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	y.fn = fn
	if si, err := safejs.Global().Get("setImmediate"); err == nil && si.Type() == safejs.TypeFunction {
		y.immediate = true
		return y, nil
	}
	if mc, err := safejs.Global().Get("MessageChannel"); err == nil && mc.Type() == safejs.TypeFunction {
		ch, err := mc.New()
		if err == nil {
			y.other, _ = ch.Get("port1")
			y.port, _ = ch.Get("port2")
			if err := y.other.Set("onmessage", fn.Value()); err == nil {
				y.ports = true
			}
		}
	}
	return y, nil
}

// pause yields to the event loop once the current slice is used up.
func (y *yielder) pause() error {
	if time.Since(y.sliced) < powSlice {
		return nil
	}
	var err error
	switch {
	case y.immediate:
		_, err = safejs.Global().Call("setImmediate", y.fn.Value())
	case y.ports:
		_, err = y.port.Call("postMessage", 0)
	default:
		_, err = safejs.Global().Call("setTimeout", y.fn.Value(), 0)
	}
	if err != nil {
		return fmt.Errorf("failed to yield to the page: %w", err)
	}
	<-y.ch
	y.sliced = time.Now()
	return nil
}

// release closes the channel's ports (an open port keeps Node alive) and
// frees the callback.
func (y *yielder) release() {
	if y.ports {
		y.port.Call("close")
		y.other.Call("close")
	}
	y.fn.Release()
}

// prover keeps one solved proof of work ready, so that submitting a report
// does not wait for hashing when the form took a person more than a few
// seconds to fill in.
type prover struct {
	url   string
	mu    sync.Mutex
	ready chan proofResult // holds the proof being solved, once solved
}

type proofResult struct {
	header  string
	expires time.Time
	err     error
}

// startProver begins solving a challenge from challengeURL at once, in
// the background. Call it as soon as the form is ready.
func startProver(challengeURL string) *prover {
	p := &prover{url: challengeURL}
	p.next()
	return p
}

// next starts solving a new proof in the background.
func (p *prover) next() {
	ready := make(chan proofResult, 1)
	p.ready = ready
	go func() {
		sol, expires, err := solveFrom(p.url)
		if err != nil {
			ready <- proofResult{err: err}
			return
		}
		ready <- proofResult{header: sol.Encode(), expires: expires}
	}()
}

// take returns a proof for one report, for the [pow.Header] header: the one
// solved in the background if it is still fresh, else a new one. It waits
// for the solving if need be, and starts on the next proof before it
// returns. Like solveChallenge, it must run in a goroutine. After the
// relay answers pow-expired, pow-used or pow-invalid, call it again for a
// new proof and send once more.
func (p *prover) take() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := <-p.ready
	p.next()
	if r.err == nil && time.Until(r.expires) < proofFreshFor {
		r = <-p.ready
		p.next()
	}
	if r.err != nil {
		return "", r.err
	}
	return r.header, nil
}

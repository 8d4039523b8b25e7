//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/pow"
)

// The proof of work (docs/abuse.md): the relay asks for one with each
// report, so that a flood of reports costs its sender real work, and no
// third-party CAPTCHA learns who reports.
//
// The widget speaks ALTCHA's protocol version 2: it derives the key of
// counter 0, 1, … until one starts with the challenge's prefix. With
// PBKDF2 the browser derives each key natively through WebCrypto
// (crypto.subtle.deriveBits), off the page's thread, about as fast as
// native code does: each key costs thousands of hash iterations, so the
// Promise round trip per key (100-250 µs) is a small part of it. Every
// key is awaited, so the page's event loop runs between any two keys and
// the form never waits for the search.

// proofFreshFor is how long a proof must still be valid to be sent: time
// for the request to reach the relay. The relay's challenges live at
// least a minute.
const proofFreshFor = 20 * time.Second

// challengeQuery asks the relay's challenge endpoint for protocol
// version 2; without it, a relay still accepting version 1 answers with a
// version 1 challenge for older clients.
const challengeQuery = "protocol=2"

// solveChallenge fetches a challenge from the relay and solves it off the UI thread, returning the value for the request header.
//
// It waits for Promises and yields to the event loop, so it must run in a
// goroutine, never in a callback. The header is [pow.Header].
func solveChallenge(challengeURL string) (header string, err error) {
	header, _, err = solveFrom(challengeURL)
	return header, err
}

// solveFrom fetches and solves a challenge, and returns the header and
// when the challenge expires by this device's clock.
func solveFrom(challengeURL string) (string, time.Time, error) {
	fetched := time.Now()
	c, answer, relayNow, err := fetchChallenge(withQuery(challengeURL, challengeQuery))
	if err != nil {
		return "", time.Time{}, err
	}
	expires, err := pow.ParseParameters(&c.Parameters)
	if err != nil {
		return "", time.Time{}, err
	}
	if !relayNow.IsZero() {
		// The device's clock may be wrong: count the challenge's life
		// from the relay's Date header instead.
		expires = fetched.Add(expires.Sub(relayNow))
	}
	derive, err := deriver(&c.Parameters)
	if err != nil {
		return "", time.Time{}, err
	}
	perfMark("reportline:pow-start")
	sol, err := pow.SolveV2(&c.Parameters, derive)
	if err != nil {
		return "", time.Time{}, err
	}
	perfMeasure("reportline:pow", "reportline:pow-start", int(sol.Counter)+1)
	header, err := encodePayload(answer, sol)
	return header, expires, err
}

// encodePayload returns the value of [pow.Header] for a solution of the
// challenge the relay answered: base64 of the JSON of the challenge, as
// it came, and the solution, with the browser's JSON.stringify and btoa
// (the module carries no JSON encoder).
func encodePayload(challenge safejs.Value, sol *pow.SolutionV2) (string, error) {
	// Keys are set one by one, in altcha-lib's order: a Go map would give
	// JSON.stringify its random order, and a header that differs from run
	// to run.
	solution, err := safejs.ValueOf(map[string]any{})
	if err == nil {
		err = solution.Set("counter", int(sol.Counter))
	}
	if err == nil {
		err = solution.Set("derivedKey", sol.DerivedKey)
	}
	if err != nil {
		return "", err
	}
	payload, err := safejs.ValueOf(map[string]any{})
	if err == nil {
		err = payload.Set("challenge", challenge)
	}
	if err == nil {
		err = payload.Set("solution", solution)
	}
	if err != nil {
		return "", err
	}
	j, err := safejs.Global().Get("JSON")
	if err != nil {
		return "", err
	}
	text, err := j.Call("stringify", payload)
	if err != nil {
		return "", err
	}
	b64, err := safejs.Global().Call("btoa", text)
	if err != nil {
		return "", fmt.Errorf("failed to encode the proof of work: %w", err)
	}
	return b64.String()
}

// withQuery adds query to url.
func withQuery(url, query string) string {
	if strings.Contains(url, "?") {
		return url + "&" + query
	}
	return url + "?" + query
}

// deriver returns how this browser derives the keys of p's function:
// PBKDF2 through WebCrypto. The widget offers no memory-hard function:
// scrypt, which WebCrypto lacks, would have to be derived in Go, which
// does not fit the module's size budget and runs several times slower in
// WebAssembly than natively (docs/abuse.md).
func deriver(p *pow.Parameters) (pow.Deriver, error) {
	if p.Algorithm != pow.AlgorithmPBKDF2 {
		return nil, fmt.Errorf("failed to solve challenge: this form derives %s keys only, not %s", pow.AlgorithmPBKDF2, p.Algorithm)
	}
	w, err := newWebPBKDF2(p)
	if err != nil {
		return nil, err
	}
	return w.derive, nil
}

// webPBKDF2 derives PBKDF2-HMAC-SHA-256 keys through WebCrypto.
type webPBKDF2 struct {
	subtle safejs.Value
	bytes  safejs.Value // the Uint8Array constructor
	usages safejs.Value // ["deriveBits"]
	params safejs.Value // the Pbkdf2Params: salt, iterations, hash
	bits   int
}

func newWebPBKDF2(p *pow.Parameters) (*webPBKDF2, error) {
	w := &webPBKDF2{bits: 8 * int(p.KeyLength)}
	crypto, err := safejs.Global().Get("crypto")
	if err == nil {
		w.subtle, err = crypto.Get("subtle")
	}
	if err != nil || w.subtle.Type() != safejs.TypeObject {
		return nil, fmt.Errorf("failed to solve challenge: this browser has no WebCrypto (crypto.subtle)")
	}
	if w.bytes, err = safejs.Global().Get("Uint8Array"); err != nil {
		return nil, err
	}
	salt, err := w.array(p.SaltBytes())
	if err != nil {
		return nil, err
	}
	if w.usages, err = safejs.ValueOf([]any{"deriveBits"}); err != nil {
		return nil, err
	}
	if w.params, err = safejs.ValueOf(map[string]any{"name": "PBKDF2", "iterations": int(p.Cost), "hash": "SHA-256"}); err != nil {
		return nil, err
	}
	return w, w.params.Set("salt", salt)
}

// array copies b into a new Uint8Array.
func (w *webPBKDF2) array(b []byte) (safejs.Value, error) {
	a, err := w.bytes.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	_, err = safejs.CopyBytesToJS(a, b)
	return a, err
}

// derive is crypto.subtle.importKey and deriveBits, as altcha-lib's
// browser PBKDF2 does them; awaiting them lets the page run.
func (w *webPBKDF2) derive(_ *pow.Parameters, password []byte) ([]byte, error) {
	pw, err := w.array(password)
	if err != nil {
		return nil, err
	}
	p, err := w.subtle.Call("importKey", "raw", pw, "PBKDF2", false, w.usages)
	if err != nil {
		return nil, fmt.Errorf("failed to derive a key: %w", err)
	}
	key, err := await(p)
	if err != nil {
		return nil, fmt.Errorf("failed to derive a key: %w", err)
	}
	if p, err = w.subtle.Call("deriveBits", w.params, key, w.bits); err != nil {
		return nil, fmt.Errorf("failed to derive a key: %w", err)
	}
	buf, err := await(p)
	if err != nil {
		return nil, fmt.Errorf("failed to derive a key: %w", err)
	}
	arr, err := w.bytes.New(buf)
	if err != nil {
		return nil, err
	}
	out := make([]byte, w.bits/8)
	if n, err := safejs.CopyBytesToGo(out, arr); err != nil || n != len(out) {
		return nil, fmt.Errorf("failed to derive a key: %d bytes of %d (%v)", n, len(out), err)
	}
	return out, nil
}

// perfMark and perfMeasure leave User Timing entries for the speed
// benchmark and for anyone profiling the frame: "reportline:pow" is how
// long each proof of work took to solve, its detail how many keys.
func perfMark(name string) {
	if perf, err := safejs.Global().Get("performance"); err == nil {
		perf.Call("mark", name)
	}
}

func perfMeasure(name, from string, keys int) {
	opts, err := safejs.ValueOf(map[string]any{"start": from, "detail": map[string]any{"keys": keys}})
	if perf, err2 := safejs.Global().Get("performance"); err == nil && err2 == nil {
		perf.Call("measure", name, opts)
	}
}

// fetchChallenge GETs a version 2 challenge from the relay, and returns
// it, read and as parsed JSON, with the relay's time (its Date header), or
// zero if it sent none.
func fetchChallenge(url string) (*pow.ChallengeV2, safejs.Value, time.Time, error) {
	var none safejs.Value
	opts, err := safejs.ValueOf(map[string]any{"method": "GET", "credentials": "omit", "cache": "no-store"})
	if err != nil {
		return nil, none, time.Time{}, err
	}
	p, err := safejs.Global().Call("fetch", url, opts)
	if err != nil {
		return nil, none, time.Time{}, err
	}
	resp, err := await(p)
	if err != nil {
		return nil, none, time.Time{}, fmt.Errorf("failed to fetch a challenge: network error: %w", err)
	}
	textP, err := resp.Call("text")
	if err != nil {
		return nil, none, time.Time{}, err
	}
	textV, err := await(textP)
	if err != nil {
		return nil, none, time.Time{}, fmt.Errorf("failed to fetch a challenge: %w", err)
	}
	text, _ := textV.String()
	answer, jerr := parseJSON(text) // the browser's parser: no encoding/json in the module
	statusV, _ := resp.Get("status")
	if status, _ := statusV.Int(); status != 200 {
		if jerr == nil && getString(answer, "title") != "" {
			return nil, none, time.Time{}, fmt.Errorf("failed to fetch a challenge: %s (%s)", getString(answer, "title"), getString(answer, "detail"))
		}
		return nil, none, time.Time{}, fmt.Errorf("failed to fetch a challenge: HTTP %d", status)
	}
	if jerr != nil {
		return nil, none, time.Time{}, fmt.Errorf("failed to read the challenge: %w", jerr)
	}
	c, err := readChallenge(answer)
	if err != nil {
		return nil, none, time.Time{}, fmt.Errorf("failed to read the challenge: %w", err)
	}
	return c, answer, relayTime(resp), nil
}

// readChallenge reads a version 2 challenge from its parsed JSON.
func readChallenge(answer safejs.Value) (*pow.ChallengeV2, error) {
	ps, err := answer.Get("parameters")
	if err != nil || ps.Type() != safejs.TypeObject {
		return nil, fmt.Errorf("no parameters: not an ALTCHA version 2 challenge")
	}
	data, err := ps.Get("data")
	if err != nil || data.Type() != safejs.TypeObject {
		return nil, fmt.Errorf("no data: not a challenge of this relay")
	}
	var bad string
	whole := func(name string) int64 {
		v, err := ps.Get(name)
		if err != nil || v.IsUndefined() {
			return 0
		}
		f, err := v.Float()
		if err != nil || f != math.Trunc(f) || f < 0 || f > 1<<52 {
			bad = name
		}
		return int64(f)
	}
	c := pow.ChallengeV2{
		Parameters: pow.Parameters{
			Algorithm: getString(ps, "algorithm"), Cost: whole("cost"), Data: pow.Data{Site: getString(data, "site")},
			ExpiresAt: whole("expiresAt"), KeyLength: whole("keyLength"), KeyPrefix: getString(ps, "keyPrefix"),
			KeySignature: getString(ps, "keySignature"), MemoryCost: whole("memoryCost"),
			Nonce: getString(ps, "nonce"), Salt: getString(ps, "salt"),
		},
		Signature: getString(answer, "signature"),
	}
	if bad != "" {
		return nil, fmt.Errorf("%s is not a whole number", bad)
	}
	return &c, nil
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
		header, expires, err := solveFrom(p.url)
		if err != nil {
			ready <- proofResult{err: err}
			return
		}
		ready <- proofResult{header: header, expires: expires}
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

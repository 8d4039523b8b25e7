package pow

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vector is one case of testdata/altcha-vectors.json, made by ALTCHA's own
// reference library (testdata/altcha-vectors.mjs).
type vector struct {
	Name           string    `json:"name"`
	HMACKey        string    `json:"hmacKey"`
	Site           string    `json:"site"`
	Number         int64     `json:"number"`
	Challenge      Challenge `json:"challenge"`
	Payload        string    `json:"payload"`
	ALTCHAVerifies bool      `json:"altchaVerifies"`
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "altcha-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil || len(vs) == 0 {
		t.Fatalf("vectors: %v", err)
	}
	return vs
}

// testNow is a fixed clock between the vectors' expiries.
var testNow = time.Unix(1_800_000_000, 0)

func TestPublishedExample(t *testing.T) {
	// altcha-lib-go's solver test: SHA-256("salt123").
	sum := hashNumber("salt", 123)
	if got := hex.EncodeToString(sum[:]); got != "c2fc6c6adf8ba0f575a35f48df52c0968a3dcd3c577c2769dc2f1035943b975e" {
		t.Fatalf("hash of salt123 = %s", got)
	}
}

func TestALTCHAVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			iss, err := NewIssuer([]byte(v.HMACKey), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			iss.SetClock(func() time.Time { return testNow })
			if sum := hashNumber(v.Challenge.Salt, v.Number); hex.EncodeToString(sum[:]) != v.Challenge.Challenge {
				t.Errorf("challenge hash differs from ALTCHA's")
			}
			if sig := hex.EncodeToString(iss.sign(v.Challenge.Challenge)); sig != v.Challenge.Signature {
				t.Errorf("signature %s, ALTCHA's %s", sig, v.Challenge.Signature)
			}
			exp, err := ParseChallenge(&v.Challenge)
			if err != nil {
				t.Fatalf("ParseChallenge: %v", err)
			}
			s, err := ParseSolution(v.Payload)
			if err != nil {
				t.Fatalf("ParseSolution: %v", err)
			}
			if s.Number != v.Number || s.Salt != v.Challenge.Salt || s.Encode() != v.Payload {
				t.Errorf("parsed %+v, re-encoded %s", s, s.Encode())
			}
			p, err := iss.Verify(s, v.Site)
			if ok := err == nil; ok != v.ALTCHAVerifies {
				t.Fatalf("Verify: %v; ALTCHA verifies: %v", err, v.ALTCHAVerifies)
			}
			if err != nil {
				if !errors.Is(err, ErrExpired) {
					t.Fatalf("Verify: %v, want ErrExpired", err)
				}
				return
			}
			if !p.Expires.Equal(exp) || hex.EncodeToString(p.ID[:]) != v.Challenge.Challenge {
				t.Errorf("proof %x until %v", p.ID, p.Expires)
			}
			if c, err := Solve(&v.Challenge, nil); err != nil || c.Number != v.Number {
				t.Errorf("Solve = %+v, %v; want %d", c, err, v.Number)
			}
		})
	}
}

func newIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss, err := NewIssuer(RandomKey(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	iss.SetClock(func() time.Time { return testNow })
	return iss
}

func TestIssueSolveVerify(t *testing.T) {
	iss := newIssuer(t)
	c, err := iss.Issue("demo-site", 5000)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := ParseChallenge(c)
	if err != nil || !exp.Equal(testNow.Add(10*time.Minute)) {
		t.Fatalf("challenge %+v expires %v (%v)", c, exp, err)
	}
	pauses := 0
	s, err := Solve(c, func() error { pauses++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := int(s.Number / PauseEvery); pauses != want {
		t.Errorf("paused %d times for number %d, want %d", pauses, s.Number, want)
	}
	parsed, err := ParseSolution(s.Encode())
	if err != nil || *parsed != *s {
		t.Fatalf("round trip: %+v, %v", parsed, err)
	}
	if _, err := iss.Verify(parsed, "demo-site"); err != nil {
		t.Fatal(err)
	}
}

func TestSolveStopsWhenPauseFails(t *testing.T) {
	iss := newIssuer(t)
	c, _ := iss.Issue("s1", 1_000_000)
	stop := errors.New("page closed")
	s, err := Solve(c, func() error { return stop })
	if s != nil && s.Number >= PauseEvery {
		t.Fatalf("solved %d past the first pause", s.Number)
	}
	if s == nil && !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the pause's", err)
	}
	c.MaxNumber = 10
	c.Challenge = strings.Repeat("0", 64)
	if _, err := Solve(c, nil); !errors.Is(err, ErrUnsolved) {
		t.Fatalf("unsolvable: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	iss := newIssuer(t)
	c, _ := iss.Issue("s1", 2000)
	good, err := Solve(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := newIssuer(t)
	oc, _ := other.Issue("s1", 2000)
	foreign, _ := Solve(oc, nil)
	otherSite, _ := iss.Issue("s2", 2000)
	wrongSite, _ := Solve(otherSite, nil)
	past := newIssuer(t)
	past.key = iss.key
	past.SetClock(func() time.Time { return testNow.Add(-time.Hour) })
	pc, _ := past.Issue("s1", 2000)
	expired, _ := Solve(pc, nil)

	mod := func(f func(s *Solution)) *Solution { s := *good; f(&s); return &s }
	tests := []struct {
		name string
		s    *Solution
		want error
	}{
		{"other relay's key", foreign, ErrForged},
		{"other site", wrongSite, ErrForged},
		{"expired", expired, ErrExpired},
		{"wrong number", mod(func(s *Solution) { s.Number++ }), ErrUnsolved},
		{"negative number", mod(func(s *Solution) { s.Number = -1 }), ErrUnsolved},
		{"tampered signature", mod(func(s *Solution) { s.Signature = strings.Repeat("a", 64) }), ErrForged},
		{"signature of another challenge", mod(func(s *Solution) { s.Signature = oc.Signature }), ErrForged},
		{"later expiry", mod(func(s *Solution) { s.Salt = strings.Replace(s.Salt, "?expires=1", "?expires=2", 1) }), ErrUnsolved},
		// ALTCHA's splicing case: a digit of the number moved into the salt.
		{"spliced salt", mod(func(s *Solution) { s.Salt += "1" }), ErrMalformed},
		{"SHA-1", mod(func(s *Solution) { s.Algorithm = "SHA-1" }), ErrMalformed},
		{"short challenge", mod(func(s *Solution) { s.Challenge = s.Challenge[:62] }), ErrMalformed},
		{"no site", mod(func(s *Solution) { s.Salt = s.Salt[:strings.Index(s.Salt, "&site=")] + "&" }), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := iss.Verify(tt.s, "s1"); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSolutionRejects(t *testing.T) {
	iss := newIssuer(t)
	c, _ := iss.Issue("s1", 100)
	good, _ := Solve(c, nil)
	js := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	body, _ := base64.StdEncoding.DecodeString(good.Encode())
	fields := strings.TrimSuffix(strings.TrimPrefix(string(body), "{"), "}")
	tests := map[string]string{
		"empty":              "",
		"not base64":         "not base64!",
		"truncated base64":   good.Encode()[:len(good.Encode())-1],
		"url base64":         strings.NewReplacer("+", "-", "/", "_").Replace(js(`{"salt":"` + strings.Repeat("?", 60) + `"}`)),
		"too long":           js(`{"x":"` + strings.Repeat("a", MaxHeaderLen) + `"}`),
		"array":              js(`[` + string(body) + `]`),
		"trailing garbage":   js(string(body) + `x`),
		"two objects":        js(string(body) + string(body)),
		"float number":       js(`{` + strings.Replace(fields, `"number":`, `"number":1.5e0,"x":`, 1) + `}`),
		"huge number":        js(`{` + strings.Replace(fields, `"number":`, `"number":99999999999,"x":`, 1) + `}`),
		"no number":          js(`{` + strings.Replace(fields, `"number":`, `"x":`, 1) + `}`),
		"upper-case hex":     js(strings.Replace(string(body), good.Challenge, strings.ToUpper(good.Challenge), 1)),
		"salt without &":     js(strings.Replace(string(body), `&"`, `"`, 1)),
		"salt leading zero":  js(strings.Replace(string(body), "?expires=", "?expires=0", 1)),
		"null":               js(`null`),
		"missing everything": js(`{}`),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			if s, err := ParseSolution(h); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSolution = %+v, %v; want ErrMalformed", s, err)
			}
		})
	}
}

func TestReplayStore(t *testing.T) {
	r := NewReplayStore(2)
	p := func(b byte, exp time.Time) Proof { return Proof{ID: sha256.Sum256([]byte{b}), Expires: exp} }
	a, b, c := p(1, testNow.Add(time.Minute)), p(2, testNow.Add(time.Hour)), p(3, testNow.Add(time.Hour))
	if err := r.Redeem(a, "report-1", testNow); err != nil {
		t.Fatal(err)
	}
	if err := r.Redeem(a, "report-1", testNow); err != nil {
		t.Fatalf("the same report again: %v", err)
	}
	if err := r.Redeem(a, "report-2", testNow); !errors.Is(err, ErrReplayed) {
		t.Fatalf("another report: %v", err)
	}
	if err := r.Redeem(b, "report-2", testNow); err != nil {
		t.Fatal(err)
	}
	if err := r.Redeem(c, "report-3", testNow.Add(time.Second)); !errors.Is(err, ErrReplayFull) {
		t.Fatalf("full store: %v", err)
	}
	// Once a has expired, its place is free again.
	later := testNow.Add(2 * time.Minute)
	if err := r.Redeem(c, "report-3", later); err != nil || r.Len() != 2 {
		t.Fatalf("after expiry: %v, %d held", err, r.Len())
	}
	if err := r.Redeem(a, "report-9", later); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired proof: %v", err)
	}
}

func TestDifficulty(t *testing.T) {
	now := testNow
	d := NewDifficulty(1000, 16000, 10, 5)
	d.SetClock(func() time.Time { return now })
	flood := func(challenges int) {
		for range challenges {
			d.NoteChallenge()
		}
		now = now.Add(time.Minute)
	}
	var levels []int64
	for range 6 {
		flood(11)
		levels = append(levels, d.Level())
	}
	flood(8) // between half and the level: kept
	levels = append(levels, d.Level())
	for range 3 {
		flood(1)
		levels = append(levels, d.Level())
	}
	for range 6 {
		d.NoteReport()
	}
	now = now.Add(time.Minute)
	levels = append(levels, d.Level())
	now = now.Add(2 * time.Hour)
	levels = append(levels, d.Level())
	want := "[2000 4000 8000 16000 16000 16000 16000 8000 4000 2000 4000 1000]"
	if got := fmt.Sprint(levels); got != want {
		t.Fatalf("levels %v, want %s", levels, want)
	}
}

// BenchmarkVerify is the relay's cost of checking one solution.
func BenchmarkVerify(b *testing.B) {
	iss := newIssuer(b)
	c, _ := iss.Issue("s1", 1000)
	s, _ := Solve(c, nil)
	for range b.N {
		if _, err := iss.Verify(s, "s1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSolveDefault is a sender's native cost of one report's work
// at the default difficulty (1,000,000): about half a million hashes.
// Browsers take about ten times longer (wasm/pow_test.go logs it).
func BenchmarkSolveDefault(b *testing.B) {
	iss := newIssuer(b)
	cs := make([]*Challenge, b.N)
	for i := range cs {
		cs[i], _ = iss.Issue("s1", 1_000_000)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := Solve(cs[i], nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRandomNumber(t *testing.T) {
	seen := map[int64]int{}
	for range 4000 {
		n := randomNumber(3)
		if n < 0 || n > 3 {
			t.Fatalf("randomNumber(3) = %d", n)
		}
		seen[n]++
	}
	for n := int64(0); n <= 3; n++ {
		if seen[n] < 800 {
			t.Errorf("%d drawn %d times of 4000", n, seen[n])
		}
	}
	if randomNumber(0) != 0 {
		t.Error("randomNumber(0) != 0")
	}
	if n := randomNumber(MaxNumberLimit); n < 0 || n > MaxNumberLimit {
		t.Errorf("randomNumber(limit) = %d", n)
	}
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []Solution{
		{Algorithm: Algorithm, Challenge: "ab12", Number: 42, Salt: "00ff?expires=1700000000&site=news&", Signature: "cd34"},
		{Algorithm: "x\"y\\z", Challenge: "tab\there\nnl\x01", Number: 0, Salt: "ünï\u2028", Signature: "\xff"},
	} {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		e.Encode(s)
		want := base64.StdEncoding.EncodeToString(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		if got := s.Encode(); got != want {
			t.Errorf("Encode(%+v) = %s, want %s", s, got, want)
		}
	}
}

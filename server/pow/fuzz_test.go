package pow

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// fuzzKey is the key of testdata/altcha-vectors.json, so that the seeds
// include solutions this issuer accepts.
const fuzzKey = "reportline test key, 32 bytes or more"

// FuzzParseSolution: whatever the header, parsing never panics, fails only
// with ErrMalformed, and what it accepts encodes back to an equal
// solution; verifying it fails only with the package's errors.
func FuzzParseSolution(f *testing.F) {
	fuzzseed.Require(f)
	iss, _ := NewIssuer([]byte(fuzzKey), time.Hour)
	iss.SetClock(func() time.Time { return testNow })
	f.Fuzz(func(t *testing.T, header string) {
		s, err := ParseSolution(header)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || s != nil {
				t.Fatalf("ParseSolution = %v, %v", s, err)
			}
			return
		}
		again, err := ParseSolution(s.Encode())
		if err != nil || *again != *s {
			t.Fatalf("re-encoded %+v does not parse back: %+v, %v", s, again, err)
		}
		p, err := iss.Verify(s, "s1")
		switch {
		case err == nil:
			if hashNumber(s.Salt, s.Number) != p.ID || !p.Expires.After(testNow) {
				t.Fatalf("accepted %+v as %+v", s, p)
			}
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrForged), errors.Is(err, ErrUnsolved), errors.Is(err, ErrExpired):
		default:
			t.Fatalf("Verify: unexpected error %v", err)
		}
	})
}

// FuzzParseChallenge: a challenge as the widget receives it, JSON from the
// relay, never panics the parser, and one it accepts is solvable in form.
func FuzzParseChallenge(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var c Challenge
		if json.Unmarshal(body, &c) != nil {
			return
		}
		exp, err := ParseChallenge(&c)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseChallenge: %v", err)
			}
			return
		}
		if c.MaxNumber < 1 || c.MaxNumber > MaxNumberLimit || exp.Unix() < 0 || len(c.Salt) > 128 {
			t.Fatalf("accepted %+v expiring %v", c, exp)
		}
	})
}

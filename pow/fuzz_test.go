package pow

import (
	"encoding/hex"
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

// FuzzVerifyHeader: whatever the header, of either version, checking it
// never panics and fails only with the package's errors; a version 2
// payload it accepts is one this issuer signed, for this site, with a key
// that has the signed prefix.
func FuzzVerifyHeader(f *testing.F) {
	fuzzseed.Require(f)
	iss, _ := NewIssuer([]byte(fuzzKey), time.Hour)
	iss.SetClock(func() time.Time { return testNow })
	f.Fuzz(func(t *testing.T, header string) {
		// VerifyHeader takes a payload that parses as version 2 for one
		// without asking the probe for the version: they must agree.
		if b, err := decodeHeader(header); err == nil {
			if _, err := parsePayloadV2(b); err == nil && !isV2(b) {
				t.Fatalf("parsed as version 2 but not probed as one: %s", b)
			}
		}
		p, err := iss.VerifyHeader(header, "s1")
		switch {
		case err == nil:
			if !p.Expires.After(testNow) {
				t.Fatalf("accepted an expired proof %+v", p)
			}
			b, _ := decodeHeader(header)
			if isV2(b) {
				pl, err := parsePayloadV2(b)
				if err != nil || pl.Challenge.Parameters.Data.Site != "s1" {
					t.Fatalf("accepted %s: %v", b, err)
				}
				key, _ := hex.DecodeString(pl.Solution.DerivedKey)
				if !pl.Challenge.Parameters.HasPrefix(key) {
					t.Fatalf("accepted a key without the prefix: %s", b)
				}
			}
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrForged), errors.Is(err, ErrUnsolved), errors.Is(err, ErrExpired), errors.Is(err, ErrRetired):
		default:
			t.Fatalf("VerifyHeader: unexpected error %v", err)
		}
	})
}

package pow

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "write testdata/altcha-v2-relay.json anew (then run altcha-v2-vectors.mjs)")

// vectorV2 is one case of testdata/altcha-v2-vectors.json, made by
// altcha-lib 2.x (testdata/altcha-v2-vectors.mjs).
type vectorV2 struct {
	Name                 string      `json:"name"`
	Site                 string      `json:"site"`
	Counter              int64       `json:"counter"`
	Challenge            ChallengeV2 `json:"challenge"`
	Solution             SolutionV2  `json:"solution"`
	Payload              string      `json:"payload"`
	Verified             bool        `json:"verified"`
	VerifiedByDerivation bool        `json:"verifiedByDerivation"`
}

type vectorsV2 struct {
	HMACKey   string     `json:"hmacKey"`
	KeySecret string     `json:"keySecret"`
	Library   []vectorV2 `json:"library"`
	Relay     []vectorV2 `json:"relay"`
	// Widget are the headers the widget made for the relay's challenges
	// (wasm/pow_test.go), as altcha-lib's verifySolution judged them.
	Widget []vectorV2 `json:"widget"`
}

func readVectorsV2(t testing.TB) vectorsV2 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "altcha-v2-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs vectorsV2
	if err := json.Unmarshal(b, &vs); err != nil || len(vs.Library) == 0 || len(vs.Relay) == 0 {
		t.Fatalf("vectors: %v", err)
	}
	return vs
}

// vectorIssuer is an issuer with the vectors' key and a clock before
// their expiry.
func vectorIssuer(t testing.TB, key string) *Issuer {
	t.Helper()
	iss, err := NewIssuer([]byte(key), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	iss.SetClock(func() time.Time { return testNow })
	return iss
}

// TestALTCHAV2Library checks the package against challenges that
// altcha-lib made and solved: the same canonical JSON and signature, the
// same derived keys, the same key secret, and the same verdict.
func TestALTCHAV2Library(t *testing.T) {
	vs := readVectorsV2(t)
	iss := vectorIssuer(t, vs.HMACKey)
	if string(iss.keySecret) != vs.KeySecret {
		t.Fatalf("key secret %s, altcha-lib's deriveHmacKeySecret %s", iss.keySecret, vs.KeySecret)
	}
	for _, v := range vs.Library {
		t.Run(v.Name, func(t *testing.T) {
			p := &v.Challenge.Parameters
			if sig := hex.EncodeToString(iss.signV2(p)); sig != v.Challenge.Signature {
				t.Errorf("signature %s, altcha-lib's %s over %s", sig, v.Challenge.Signature, p.canonical())
			}
			key, err := DeriveKey(p, p.Password(uint32(v.Counter)))
			if err != nil && runtime.GOOS == "js" && p.Algorithm == AlgorithmScrypt {
				return // not derived in the browser (kdf_js.go)
			}
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(key) != v.Solution.DerivedKey || v.Solution.Counter != v.Counter || !p.HasPrefix(key) {
				t.Errorf("key of counter %d: %x, altcha-lib's %s", v.Counter, key, v.Solution.DerivedKey)
			}
			if hex.EncodeToString(iss.signKey(key)) != p.KeySignature {
				t.Errorf("key signature differs from altcha-lib's")
			}
			proof, err := iss.VerifyHeader(v.Payload, v.Site)
			if ok := err == nil; ok != v.Verified || v.Verified != v.VerifiedByDerivation {
				t.Fatalf("VerifyHeader: %v; altcha-lib verifies: %v, %v", err, v.Verified, v.VerifiedByDerivation)
			}
			if err != nil {
				if !errors.Is(err, ErrExpired) {
					t.Fatalf("VerifyHeader: %v, want ErrExpired", err)
				}
				return
			}
			if hex.EncodeToString(proof.ID[:]) != v.Challenge.Signature || proof.Expires.Unix() != p.ExpiresAt {
				t.Errorf("proof %x until %v", proof.ID, proof.Expires)
			}
			sol, err := SolveV2(p, DeriveKey)
			if err != nil || *sol != (SolutionV2{Counter: v.Counter, DerivedKey: v.Solution.DerivedKey}) {
				t.Errorf("SolveV2 = %+v, %v", sol, err)
			}
		})
	}
}

// relayChallengesFile holds challenges this package issued, for
// altcha-v2-vectors.mjs to solve with altcha-lib.
const relayChallengesFile = "testdata/altcha-v2-relay.json"

type relayChallenge struct {
	Name      string      `json:"name"`
	Site      string      `json:"site"`
	Challenge ChallengeV2 `json:"challenge"`
}

// TestRelayChallengesV2 checks that the relay accepts what altcha-lib's
// solveChallenge found for the relay's own challenges, and that
// altcha-lib's verifySolution accepted them. With -update it issues the
// challenges anew instead (then run altcha-v2-vectors.mjs).
func TestRelayChallengesV2(t *testing.T) {
	const key = "reportline test key, 32 bytes or more"
	if *update {
		iss := vectorIssuer(t, key)
		iss.SetClock(func() time.Time { return time.Unix(4102444800, 0).Add(-time.Hour) })
		var cs []relayChallenge
		for _, c := range []struct {
			name, site string
			kdf        KDF
			max        int64
		}{
			{"pbkdf2", "s1", KDF{Algorithm: AlgorithmPBKDF2, Cost: 1000}, 50},
			{"pbkdf2-5000", "demo-site", KDF{Algorithm: AlgorithmPBKDF2, Cost: 5000}, 20},
			{"scrypt", "s1", KDF{Algorithm: AlgorithmScrypt, Cost: 1024, MemoryCost: 8}, 20},
		} {
			if err := iss.SetKDF(c.kdf); err != nil {
				t.Fatal(err)
			}
			ch, err := iss.IssueV2(c.site, c.max)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, relayChallenge{Name: c.name, Site: c.site, Challenge: *ch})
		}
		b, _ := json.MarshalIndent(cs, "", "  ")
		if err := os.WriteFile(relayChallengesFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("wrote " + relayChallengesFile + ": now run altcha-v2-vectors.mjs")
	}
	vs := readVectorsV2(t)
	iss := vectorIssuer(t, key)
	for _, v := range vs.Relay {
		t.Run(v.Name, func(t *testing.T) {
			if !v.Verified || !v.VerifiedByDerivation {
				t.Fatalf("altcha-lib's verifySolution refused the relay's challenge solved by its solveChallenge")
			}
			if _, err := iss.VerifyHeader(v.Payload, v.Site); err != nil {
				t.Fatalf("the relay refuses altcha-lib's solution: %v", err)
			}
			if _, err := iss.VerifyHeader(v.Payload, "another-site"); !errors.Is(err, ErrForged) {
				t.Fatalf("for another site: %v, want ErrForged", err)
			}
		})
	}
}

// TestWidgetPayloadsV2: altcha-lib's verifySolution accepted the headers
// the widget made, in both of its ways, and so does the relay.
func TestWidgetPayloadsV2(t *testing.T) {
	vs := readVectorsV2(t)
	if len(vs.Widget) < 2 {
		t.Fatalf("%d widget payloads", len(vs.Widget))
	}
	iss := vectorIssuer(t, vs.HMACKey)
	for _, v := range vs.Widget {
		t.Run(v.Name, func(t *testing.T) {
			if !v.Verified || !v.VerifiedByDerivation {
				t.Fatalf("altcha-lib's verifySolution refused the widget's payload")
			}
			b, _ := base64.StdEncoding.DecodeString(v.Payload)
			var pl PayloadV2
			if err := json.Unmarshal(b, &pl); err != nil {
				t.Fatal(err)
			}
			if _, err := iss.VerifyHeader(v.Payload, pl.Challenge.Parameters.Data.Site); err != nil {
				t.Fatalf("the relay refuses the widget's payload: %v", err)
			}
		})
	}
}

func TestIssueSolveVerifyV2(t *testing.T) {
	iss := newIssuer(t)
	if err := iss.SetKDF(KDF{Algorithm: AlgorithmPBKDF2, Cost: 100}); err != nil {
		t.Fatal(err)
	}
	c, err := iss.IssueV2("demo-site", 200)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := ParseParameters(&c.Parameters)
	if err != nil || !exp.Equal(testNow.Add(10*time.Minute)) {
		t.Fatalf("challenge %+v expires %v (%v)", c, exp, err)
	}
	sol, err := SolveV2(&c.Parameters, DeriveKey)
	if err != nil {
		t.Fatal(err)
	}
	if sol.Counter > 200 {
		t.Fatalf("counter %d beyond the bound 200", sol.Counter)
	}
	header := (&PayloadV2{Challenge: *c, Solution: *sol}).Encode()
	if len(header) > MaxHeaderLen {
		t.Fatalf("header of %d bytes", len(header))
	}
	p, err := iss.VerifyHeader(header, "demo-site")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Expires.Equal(exp) {
		t.Errorf("proof expires %v, want %v", p.Expires, exp)
	}
}

// TestEncodeV2MatchesEncodingJSON: the hand-written JSON is
// encoding/json's, and so JSON.stringify's, for the characters a
// challenge can hold.
func TestEncodeV2MatchesEncodingJSON(t *testing.T) {
	for _, pl := range []PayloadV2{
		{Challenge: ChallengeV2{Parameters: Parameters{Algorithm: AlgorithmPBKDF2, Cost: 5000, Data: Data{Site: "s1"}, ExpiresAt: 1, KeyLength: 32, KeyPrefix: "ab", KeySignature: "cd", Nonce: "00", Salt: "ff"}, Signature: "ee"}, Solution: SolutionV2{Counter: 7, DerivedKey: "abcd"}},
		{Challenge: ChallengeV2{Parameters: Parameters{Algorithm: "x\"y\\z\n", Cost: 1, MemoryCost: 8, Data: Data{Site: "ünï\u2028"}}, Signature: "\x01"}},
	} {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		e.Encode(pl)
		want := base64.StdEncoding.EncodeToString(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		if got := pl.Encode(); got != want {
			t.Errorf("Encode = %s, want %s", got, want)
		}
	}
}

func TestVerifyV2Rejects(t *testing.T) {
	iss := newIssuer(t)
	iss.SetKDF(KDF{Algorithm: AlgorithmPBKDF2, Cost: 10})
	solve := func(iss *Issuer, site string) PayloadV2 {
		c, err := iss.IssueV2(site, 100)
		if err != nil {
			t.Fatal(err)
		}
		sol, err := SolveV2(&c.Parameters, DeriveKey)
		if err != nil {
			t.Fatal(err)
		}
		return PayloadV2{Challenge: *c, Solution: *sol}
	}
	good := solve(iss, "s1")
	other := newIssuer(t)
	other.SetKDF(iss.KDF())
	past := newIssuer(t)
	past.key, past.keySecret, past.kdf = iss.key, iss.keySecret, iss.kdf
	past.SetClock(func() time.Time { return testNow.Add(-time.Hour) })
	mod := func(f func(p *PayloadV2)) PayloadV2 { p := good; f(&p); return p }
	otherKey, _ := DeriveKey(&good.Challenge.Parameters, good.Challenge.Parameters.Password(uint32(good.Solution.Counter+1)))
	tests := []struct {
		name string
		pl   PayloadV2
		want error
	}{
		{"other relay's key", solve(other, "s1"), ErrForged},
		{"other site", solve(iss, "s2"), ErrForged},
		{"expired", solve(past, "s1"), ErrExpired},
		{"key of another counter", mod(func(p *PayloadV2) { p.Solution.DerivedKey = hex.EncodeToString(otherKey) }), ErrUnsolved},
		{"later expiry", mod(func(p *PayloadV2) { p.Challenge.Parameters.ExpiresAt++ }), ErrForged},
		{"lower cost", mod(func(p *PayloadV2) { p.Challenge.Parameters.Cost = 1 }), ErrForged},
		{"easier prefix", mod(func(p *PayloadV2) { p.Challenge.Parameters.KeyPrefix = p.Challenge.Parameters.KeyPrefix[:2] }), ErrForged},
		{"tampered signature", mod(func(p *PayloadV2) { p.Challenge.Signature = strings.Repeat("a", 64) }), ErrForged},
		{"short key", mod(func(p *PayloadV2) { p.Solution.DerivedKey = p.Solution.DerivedKey[:62] }), ErrMalformed},
		{"negative counter", mod(func(p *PayloadV2) { p.Solution.Counter = -1 }), ErrMalformed},
		{"SHA-256", mod(func(p *PayloadV2) { p.Challenge.Parameters.Algorithm = "SHA-256" }), ErrMalformed},
		{"no site", mod(func(p *PayloadV2) { p.Challenge.Parameters.Data.Site = "" }), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := iss.VerifyHeader(tt.pl.Encode(), "s1"); !errors.Is(err, tt.want) {
				t.Fatalf("VerifyHeader = %v, want %v", err, tt.want)
			}
		})
	}
	js := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	body, _ := base64.StdEncoding.DecodeString(good.Encode())
	for name, h := range map[string]string{
		"unknown field":    js(strings.Replace(string(body), `"solution":{`, `"solution":{"x":1,`, 1)),
		"trailing garbage": js(string(body) + "{}"),
		"float counter":    js(strings.Replace(string(body), `"counter":`, `"counter":0.5,"x":`, 1)),
		"too long":         js(string(body) + strings.Repeat(" ", MaxHeaderLen)),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := iss.VerifyHeader(h, "s1"); !errors.Is(err, ErrMalformed) {
				t.Fatalf("VerifyHeader = %v, want ErrMalformed", err)
			}
		})
	}
}

// TestRetireV1: version 1 is accepted until the date set, then refused
// with ErrRetired, while version 2 goes on.
func TestRetireV1(t *testing.T) {
	iss := newIssuer(t)
	iss.SetKDF(KDF{Algorithm: AlgorithmPBKDF2, Cost: 10})
	c1, _ := iss.Issue("s1", 100)
	s1, _ := Solve(c1, nil)
	c2, _ := iss.IssueV2("s1", 10)
	s2, _ := SolveV2(&c2.Parameters, DeriveKey)
	v1, v2 := s1.Encode(), (&PayloadV2{Challenge: *c2, Solution: *s2}).Encode()
	iss.RetireV1(testNow.Add(time.Second))
	if _, err := iss.VerifyHeader(v1, "s1"); err != nil || !iss.AcceptsV1() {
		t.Fatalf("before the date: %v", err)
	}
	iss.RetireV1(testNow)
	if _, err := iss.VerifyHeader(v1, "s1"); !errors.Is(err, ErrRetired) || iss.AcceptsV1() {
		t.Fatalf("from the date: %v, want ErrRetired", err)
	}
	if _, err := iss.VerifyHeader(v2, "s1"); err != nil {
		t.Fatalf("version 2 after version 1 retired: %v", err)
	}
}

func TestKDFCheck(t *testing.T) {
	for _, k := range []KDF{
		{Algorithm: "SHA-256", Cost: 1},
		{Algorithm: AlgorithmPBKDF2, Cost: 0},
		{Algorithm: AlgorithmPBKDF2, Cost: 10, MemoryCost: 1},
		{Algorithm: AlgorithmScrypt, Cost: 1000, MemoryCost: 8},
		{Algorithm: AlgorithmScrypt, Cost: 1 << 20, MemoryCost: 8},
		{Algorithm: AlgorithmScrypt, Cost: 1024, MemoryCost: 0},
	} {
		if err := k.Check(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%+v: %v", k, err)
		}
	}
	for _, k := range []KDF{DefaultKDF, {Algorithm: AlgorithmScrypt, Cost: 1 << 14, MemoryCost: 8}} {
		if err := k.Check(); err != nil {
			t.Errorf("%+v: %v", k, err)
		}
	}
}

// BenchmarkVerifyV2 is the relay's cost of checking one version 2
// solution: two HMACs, no key derivation.
func BenchmarkVerifyV2(b *testing.B) {
	iss := newIssuer(b)
	iss.SetKDF(KDF{Algorithm: AlgorithmPBKDF2, Cost: 10})
	c, _ := iss.IssueV2("s1", 10)
	sol, _ := SolveV2(&c.Parameters, DeriveKey)
	h := (&PayloadV2{Challenge: *c, Solution: *sol}).Encode()
	for b.Loop() {
		if _, err := iss.VerifyHeader(h, "s1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueV2 is the relay's cost of issuing one challenge with the
// default key-derivation function: one key derivation.
func BenchmarkIssueV2(b *testing.B) {
	iss := newIssuer(b)
	for b.Loop() {
		if _, err := iss.IssueV2("s1", 100); err != nil {
			b.Fatal(err)
		}
	}
}

// Package pow implements the relay's proof of work, ALTCHA's challenge
// protocol, as described in docs/abuse.md: version 2 with a
// key-derivation function ([Issuer.IssueV2], [SolveV2]), and version 1
// with SHA-256, accepted for a transition period ([Issuer.RetireV1]).
// [Issuer.VerifyHeader] checks either.
//
// In version 1 the relay issues a [Challenge]: a random salt carrying its expiry and the
// site it is for, the hex SHA-256 of the salt followed by a secret number
// between 0 and maxnumber, and an HMAC-SHA-256 signature of that hash. A
// client finds the number by trying them in turn ([Solve]) and sends the
// [Solution] back, base64-encoded JSON, in the [Header] of its report. The
// relay checks it with two hashes and no state ([Issuer.Verify]), and
// spends it once ([ReplayStore]). Version 2 is described in v2.go.
//
// The package builds for the browser too: the widget uses
// [ParseParameters] and [SolveV2] from it, with keys derived through
// WebCrypto.
package pow

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Header is the request header that carries a [Solution] with a report.
const Header = "Report-Pow"

// Algorithm is the only hash algorithm the relay issues and accepts.
const Algorithm = "SHA-256"

// MaxNumberLimit bounds maxnumber, so that a widget never searches for
// longer than a person would wait.
const MaxNumberLimit = 1_000_000_000

// MaxHeaderLen is the longest [Header] value the relay reads; a real one
// is about 350 bytes in version 1, 800 in version 2.
const MaxHeaderLen = 1536

// MinKeyLen is the shortest HMAC key an [Issuer] accepts.
const MinKeyLen = 32

// saltRandomLen is the number of hex digits of randomness in a salt.
const saltRandomLen = 24

// Errors of [ParseSolution], [ParseChallenge], [Issuer.Verify] and
// [ReplayStore.Redeem], checked with errors.Is.
var (
	// ErrMalformed is a header or challenge that is not one this relay
	// could have issued.
	ErrMalformed = errors.New("malformed proof of work")
	// ErrForged is a challenge the relay did not sign, or signed for
	// another site.
	ErrForged = errors.New("proof of work not issued by this relay")
	// ErrUnsolved is a number that does not solve its challenge.
	ErrUnsolved = errors.New("proof of work does not solve its challenge")
	// ErrExpired is a challenge past its expiry.
	ErrExpired = errors.New("proof of work expired")
	// ErrReplayed is a solution already spent on another report.
	ErrReplayed = errors.New("proof of work already used")
	// ErrReplayFull is a replay store at capacity: the relay cannot
	// remember another solution until older ones expire.
	ErrReplayFull = errors.New("too many proofs of work in use")
	// ErrRetired is a version 1 solution after the relay stopped
	// accepting version 1.
	ErrRetired = errors.New("proof of work of ALTCHA version 1, no longer accepted")
)

// Challenge is what the relay's challenge endpoint answers, in ALTCHA's
// JSON form.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Solution is a solved challenge, ALTCHA's payload.
type Solution struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    int64  `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Proof is a verified [Solution]: what the replay store remembers.
type Proof struct {
	// ID is the challenge hash, unique to the challenge.
	ID [sha256.Size]byte
	// Expires is when the challenge stops being accepted.
	Expires time.Time
}

// Encode returns the solution as the value of [Header]: base64 of its
// JSON, byte for byte as ALTCHA's widget sends it.
//
// It writes the JSON by hand, as encoding/json with HTML escaping off
// would (a test holds it to that), so that the browser module does not
// carry encoding/json.
func (s *Solution) Encode() string {
	b := make([]byte, 0, 256)
	b = append(b, `{"algorithm":`...)
	b = appendJSONString(b, s.Algorithm)
	b = append(b, `,"challenge":`...)
	b = appendJSONString(b, s.Challenge)
	b = append(b, `,"number":`...)
	b = strconv.AppendInt(b, s.Number, 10)
	b = append(b, `,"salt":`...)
	b = appendJSONString(b, s.Salt)
	b = append(b, `,"signature":`...)
	b = appendJSONString(b, s.Signature)
	b = append(b, '}')
	return base64.StdEncoding.EncodeToString(b)
}

// appendJSONString appends s as a JSON string the way JSON.stringify
// writes it: quotes, backslashes and control characters escaped, the
// rest as it is (invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// ParseSolution decodes the value of [Header]. It checks the form of every
// field but not the signature or the number: that is [Issuer.Verify].
func ParseSolution(header string) (*Solution, error) {
	b, err := decodeHeader(header)
	if err != nil {
		return nil, err
	}
	return parseSolutionJSON(b)
}

// decodeHeader checks the length of a [Header] value and decodes its
// base64.
func decodeHeader(header string) ([]byte, error) {
	if len(header) > MaxHeaderLen {
		return nil, fmt.Errorf("%w: header of %d bytes, at most %d", ErrMalformed, len(header), MaxHeaderLen)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(header)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrMalformed)
	}
	return b, nil
}

// parseSolutionJSON reads a decoded version 1 payload.
func parseSolutionJSON(b []byte) (*Solution, error) {
	var raw struct {
		Algorithm string      `json:"algorithm"`
		Challenge string      `json:"challenge"`
		Number    json.Number `json:"number"`
		Salt      string      `json:"salt"`
		Signature string      `json:"signature"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	s := Solution{Algorithm: raw.Algorithm, Challenge: raw.Challenge, Salt: raw.Salt, Signature: raw.Signature}
	var err error
	if s.Number, err = strconv.ParseInt(string(raw.Number), 10, 64); err != nil || s.Number < 0 || s.Number > MaxNumberLimit {
		return nil, fmt.Errorf("%w: number %q is not an integer from 0 to %d", ErrMalformed, raw.Number, MaxNumberLimit)
	}
	if s.Algorithm != Algorithm {
		return nil, fmt.Errorf("%w: algorithm %q, want %q", ErrMalformed, s.Algorithm, Algorithm)
	}
	if !isHex(s.Challenge, 2*sha256.Size) || !isHex(s.Signature, 2*sha256.Size) {
		return nil, fmt.Errorf("%w: challenge and signature must be 64 lower-case hex digits", ErrMalformed)
	}
	if _, _, err := parseSalt(s.Salt); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseChallenge checks the form of a challenge, as the widget receives
// it, and returns when it expires.
func ParseChallenge(c *Challenge) (expires time.Time, err error) {
	if c.Algorithm != Algorithm {
		return time.Time{}, fmt.Errorf("%w: algorithm %q, want %q", ErrMalformed, c.Algorithm, Algorithm)
	}
	if !isHex(c.Challenge, 2*sha256.Size) || !isHex(c.Signature, 2*sha256.Size) {
		return time.Time{}, fmt.Errorf("%w: challenge and signature must be 64 lower-case hex digits", ErrMalformed)
	}
	if c.MaxNumber < 1 || c.MaxNumber > MaxNumberLimit {
		return time.Time{}, fmt.Errorf("%w: maxnumber %d is not from 1 to %d", ErrMalformed, c.MaxNumber, MaxNumberLimit)
	}
	exp, _, err := parseSalt(c.Salt)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(exp, 0), nil
}

// parseSalt reads a salt of the form the relay issues:
// 24 hex digits "?expires=" UNIX-SECONDS "&site=" SITE "&". The final "&"
// is ALTCHA's guard against moving digits of the number into the salt.
func parseSalt(salt string) (expires int64, site string, err error) {
	bad := func(why string) (int64, string, error) {
		return 0, "", fmt.Errorf("%w: salt %s", ErrMalformed, why)
	}
	if len(salt) > 128 {
		return bad("too long")
	}
	rnd, rest, ok := strings.Cut(salt, "?expires=")
	if !ok || !isHex(rnd, saltRandomLen) {
		return bad("does not start with 24 hex digits and ?expires=")
	}
	exp, rest, ok := strings.Cut(rest, "&site=")
	if !ok || len(exp) == 0 || len(exp) > 12 || strings.Trim(exp, "0123456789") != "" || (exp[0] == '0' && len(exp) > 1) {
		return bad("has no expiry in whole seconds")
	}
	site, ok = strings.CutSuffix(rest, "&")
	if !ok || !isSite(site) {
		return bad("has no site")
	}
	expires, _ = strconv.ParseInt(exp, 10, 64)
	return expires, site, nil
}

// DefaultKDF is the key-derivation function of version 2 challenges
// unless [Issuer.SetKDF] chooses another; docs/abuse.md says how its cost
// was chosen.
var DefaultKDF = KDF{Algorithm: AlgorithmPBKDF2, Cost: 10_000}

// Issuer makes and verifies challenges with one HMAC key.
type Issuer struct {
	key       []byte
	keySecret []byte // signs derived keys in version 2
	ttl       time.Duration
	kdf       KDF
	v1Until   time.Time // zero: version 1 accepted
	// now is the clock; tests replace it.
	now func() time.Time
}

// NewIssuer returns an issuer that signs with key (at least [MinKeyLen]
// bytes) and makes challenges that expire after ttl. Relays that share a
// load balancer must share the key.
func NewIssuer(key []byte, ttl time.Duration) (*Issuer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("proof of work key of %d bytes: use at least %d", len(key), MinKeyLen)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("proof of work expiry %v: use at least a second", ttl)
	}
	key = append([]byte(nil), key...)
	return &Issuer{key: key, keySecret: keySecret(key), ttl: ttl, kdf: DefaultKDF, now: time.Now}, nil
}

// SetKDF chooses the key-derivation function of the version 2 challenges
// the issuer makes from now on. Challenges already issued keep theirs.
func (i *Issuer) SetKDF(k KDF) error {
	if err := k.Check(); err != nil {
		return fmt.Errorf("failed to set the key-derivation function: %w", err)
	}
	i.kdf = k
	return nil
}

// KDF returns the key-derivation function of new version 2 challenges.
func (i *Issuer) KDF() KDF { return i.kdf }

// RetireV1 stops accepting version 1 solutions at t (at once if t is in
// the past); [Issuer.VerifyHeader] then refuses them with [ErrRetired].
// Until it is called, version 1 is accepted.
func (i *Issuer) RetireV1(t time.Time) { i.v1Until = t }

// AcceptsV1 reports whether version 1 solutions are still accepted.
func (i *Issuer) AcceptsV1() bool { return i.v1Until.IsZero() || i.now().Before(i.v1Until) }

// VerifyHeader checks the value of [Header], a solution of either version,
// for site: its form, then what [Issuer.Verify] checks. It keeps no state:
// spending the proof is [ReplayStore.Redeem].
func (i *Issuer) VerifyHeader(header, site string) (Proof, error) {
	b, err := decodeHeader(header)
	if err != nil {
		return Proof{}, err
	}
	// A payload that parses as version 2 is one (its challenge is an
	// object): the probe for the version, a JSON decoding of its own,
	// is needed only to say why one did not parse.
	pl, err := parsePayloadV2(b)
	if err == nil {
		return i.verifyV2(pl, site)
	}
	if isV2(b) {
		return Proof{}, err
	}
	if !i.AcceptsV1() {
		return Proof{}, fmt.Errorf("%w since %s", ErrRetired, i.v1Until.UTC().Format(time.RFC3339))
	}
	s, err := parseSolutionJSON(b)
	if err != nil {
		return Proof{}, err
	}
	return i.Verify(s, site)
}

// RandomKey returns a new random HMAC key for an [Issuer] whose challenges
// only this process verifies.
func RandomKey() []byte {
	k := make([]byte, MinKeyLen)
	rand.Read(k)
	return k
}

// SetClock replaces the issuer's clock; for tests.
func (i *Issuer) SetClock(now func() time.Time) { i.now = now }

// Issue makes a challenge for site whose secret number is at most
// maxNumber: solving it takes maxNumber/2 hashes on average.
func (i *Issuer) Issue(site string, maxNumber int64) (*Challenge, error) {
	if !isSite(site) {
		return nil, fmt.Errorf("failed to issue challenge: bad site %q", site)
	}
	if maxNumber < 1 || maxNumber > MaxNumberLimit {
		return nil, fmt.Errorf("failed to issue challenge: maxnumber %d is not from 1 to %d", maxNumber, MaxNumberLimit)
	}
	var rnd [saltRandomLen / 2]byte
	rand.Read(rnd[:])
	n := randomNumber(maxNumber)
	expires := i.now().Add(i.ttl).Unix()
	salt := hex.EncodeToString(rnd[:]) + "?expires=" + strconv.FormatInt(expires, 10) + "&site=" + site + "&"
	sum := hashNumber(salt, n)
	challenge := hex.EncodeToString(sum[:])
	return &Challenge{
		Algorithm: Algorithm,
		Challenge: challenge,
		MaxNumber: maxNumber,
		Salt:      salt,
		Signature: hex.EncodeToString(i.sign(challenge)),
	}, nil
}

// Verify checks that s was issued by this issuer for site, has not
// expired, and is solved. It costs one HMAC and one hash and keeps no
// state: spending the proof is [ReplayStore.Redeem].
func (i *Issuer) Verify(s *Solution, site string) (Proof, error) {
	expires, forSite, err := parseSalt(s.Salt)
	if err != nil {
		return Proof{}, err
	}
	if i.now().Unix() >= expires {
		return Proof{}, fmt.Errorf("%w at %s", ErrExpired, time.Unix(expires, 0).UTC().Format(time.RFC3339))
	}
	var id [sha256.Size]byte
	sig, err1 := hex.DecodeString(s.Signature)
	_, err2 := hex.Decode(id[:], []byte(s.Challenge))
	if s.Algorithm != Algorithm || err1 != nil || err2 != nil || len(s.Challenge) != 2*sha256.Size {
		return Proof{}, fmt.Errorf("%w: not an ALTCHA SHA-256 solution", ErrMalformed)
	}
	if !hmac.Equal(sig, i.sign(s.Challenge)) {
		return Proof{}, ErrForged
	}
	if forSite != site {
		return Proof{}, fmt.Errorf("%w: issued for another site", ErrForged)
	}
	if s.Number < 0 || hashNumber(s.Salt, s.Number) != id {
		return Proof{}, ErrUnsolved
	}
	return Proof{ID: id, Expires: time.Unix(expires, 0)}, nil
}

func (i *Issuer) sign(challenge string) []byte {
	m := hmac.New(sha256.New, i.key)
	m.Write([]byte(challenge))
	return m.Sum(nil)
}

// randomNumber returns a uniformly random number from 0 to max.
func randomNumber(max int64) int64 {
	n := uint64(max) + 1
	limit := math.MaxUint64 - math.MaxUint64%n // below it, v%n is uniform
	for {
		var b [8]byte
		rand.Read(b[:])
		if v := binary.LittleEndian.Uint64(b[:]); v < limit {
			return int64(v % n)
		}
	}
}

// hashNumber is SHA-256(salt + decimal number), the challenge's hash.
func hashNumber(salt string, n int64) [sha256.Size]byte {
	var buf [160]byte
	b := strconv.AppendInt(append(buf[:0], salt...), n, 10)
	return sha256.Sum256(b)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isSite reports whether s is a site id as the configuration allows them.
func isSite(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

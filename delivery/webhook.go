// Package delivery is the contract between a relay and a hotline's intake:
// the body of a delivery ([Payload]), and its signature, made and checked as
// specified by Standard Webhooks 1.0.0 (https://www.standardwebhooks.com,
// the file spec/standard-webhooks.md in
// github.com/standard-webhooks/standard-webhooks).
//
// The relay uses it to sign each report it forwards to a hotline's intake, and
// the intake uses it to check that a delivery really comes from its relay, was
// not altered on the way, and is not a replay of an old delivery.
//
// # Wire format
//
// A delivery carries three headers:
//
//	webhook-id:        msg_p5jXN8AQM9LWM0D4loKWxJek
//	webhook-timestamp: 1614265330
//	webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
//
// The timestamp is a decimal count of Unix seconds. The signature header is
// a space-separated list of "version,base64(signature)" entries; several
// entries let a sender sign with an old and a new key during key rotation.
// Every signature covers the same content: id + "." + timestamp + "." + body.
//
// # Schemes and keys
//
// Version v1 is HMAC-SHA256 with a shared secret, written "whsec_" followed by
// the standard, padded base64 of 24 to 64 random bytes. For compatibility with
// the official libraries, a secret without the prefix is also accepted.
//
// Version v1a is Ed25519. The secret signing key is "whsk_" followed by the
// base64 of the 64-byte private key (seed followed by public key, the layout
// of crypto/ed25519 and of the Svix server); the 32-byte seed alone is also
// accepted. The public verification key is "whpk_" followed by the base64 of
// the 32-byte public key. The spec recommends v1a: only the relay can sign,
// so a leaked intake configuration cannot be used to forge reports.
//
// # Verification rules
//
// [Verifier.Verify] accepts a delivery if its timestamp is within the
// tolerance of the current time and at least one signature entry matches at
// least one configured key. Entries with an unknown version are skipped, as
// the spec requires for forward compatibility. Only the first two well-formed
// v1a entries are checked: each check hashes the whole body again, and a
// sender signs with one key, or two while it rotates. Message ids must not contain
// '.', which would let one signed message pass for another (the spec warns
// about this). HMACs are compared in constant time.
package delivery

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names defined by the spec. They are written in the spec's lower
// case; [http.Header] canonicalizes them, and HTTP header names are case
// insensitive anyway.
const (
	// HeaderID names the header carrying the message id, which stays the same
	// across retries so the receiver can use it as an idempotency key.
	HeaderID = "webhook-id"
	// HeaderTimestamp names the header carrying the attempt time in decimal
	// Unix seconds, which bounds how long a captured delivery can be replayed.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature names the header carrying the space-separated list of
	// "version,base64" signatures.
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, in either direction, before it is rejected. Five minutes
// is what the official libraries use: long enough for ordinary clock skew and
// network delay, short enough to limit replays.
const DefaultTolerance = 5 * time.Minute

// Limits on untrusted input, so a hostile request cannot make the verifier do
// unbounded work.
const (
	// maxSignatureHeaderLen bounds the webhook-signature header in bytes.
	maxSignatureHeaderLen = 4096
	// maxSignatures bounds the number of entries in the webhook-signature
	// header, and so the number of HMAC comparisons and Ed25519 verifications
	// per key.
	maxSignatures = 16
	// maxIDLen bounds the webhook-id header in bytes; the id is an idempotency
	// key that callers store.
	maxIDLen = 256
	// maxEd25519Entries bounds the v1a entries Verify checks: each one
	// hashes the whole body again for every trusted Ed25519 key, so that
	// without the bound a header of forged entries would make a sender
	// without a key cost the receiver maxSignatures hashes of each body. A
	// sender signs with one key, or two while it rotates.
	maxEd25519Entries = 2
)

// Signature versions defined by the spec.
const (
	versionHMAC    = "v1"
	versionEd25519 = "v1a"
)

// Errors returned by this package, wrapped with details; check them with
// [errors.Is].
var (
	// ErrMissingHeaders means a delivery lacks webhook-id, webhook-timestamp
	// or webhook-signature, or one of them is empty: it was not signed at all.
	ErrMissingHeaders = errors.New("missing webhook headers")
	// ErrMalformedHeader means a webhook header does not follow the spec's
	// syntax or this package's size limits, so it cannot be verified.
	ErrMalformedHeader = errors.New("malformed webhook header")
	// ErrBadSignature means no signature in the delivery matches any key the
	// verifier trusts: the delivery may be forged or altered, or signed with
	// a key the receiver does not have.
	ErrBadSignature = errors.New("no valid webhook signature")
	// ErrTimestampTooOld means the delivery was signed longer ago than the
	// tolerance allows: a replay, a long delay, or a slow sender clock.
	ErrTimestampTooOld = errors.New("webhook timestamp too old")
	// ErrTimestampTooNew means the delivery claims to be signed further in the
	// future than the tolerance allows, which usually means a fast sender
	// clock. It is distinct from ErrTimestampTooOld so operators can tell the
	// two clock problems apart.
	ErrTimestampTooNew = errors.New("webhook timestamp too new")
	// ErrMalformedKey means a key or secret string is not in the spec's
	// format, has the wrong length, or is the wrong kind of key for the call.
	ErrMalformedKey = errors.New("malformed webhook key")
)

// Signature is one entry of a webhook-signature header, such as
// "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=". It exists so callers can
// inspect what a sender sent (for example, which versions) without
// re-implementing the header syntax.
type Signature struct {
	// Version identifies the scheme: "v1" for HMAC-SHA256, "v1a" for Ed25519.
	// Other versions are reserved for future schemes and are ignored by
	// Verify.
	Version string
	// Value is the signature exactly as sent, normally standard padded
	// base64. It is not decoded, because future versions may differ.
	Value string
}

// String returns the entry in its wire form, "version,value".
func (s Signature) String() string {
	return s.Version + "," + s.Value
}

// ParseSignatureHeader splits a webhook-signature header value into its
// entries. It exists so the syntax is checked in one place, and is what
// [Verifier.Verify] uses.
//
// Entries are separated by spaces (runs of spaces are tolerated). Each entry
// is a version of ASCII letters and digits, a comma, and a non-empty value of
// printable ASCII without spaces or commas. The header must hold between 1
// and 16 entries and at most 4096 bytes. Unknown versions are returned, not
// rejected. Errors wrap [ErrMalformedHeader].
func ParseSignatureHeader(s string) ([]Signature, error) {
	if len(s) > maxSignatureHeaderLen {
		return nil, fmt.Errorf("parse signature header: %w: %d bytes, limit %d", ErrMalformedHeader, len(s), maxSignatureHeaderLen)
	}
	var sigs []Signature
	for entry := range strings.SplitSeq(s, " ") {
		if entry == "" {
			continue
		}
		if len(sigs) == maxSignatures {
			return nil, fmt.Errorf("parse signature header: %w: more than %d entries", ErrMalformedHeader, maxSignatures)
		}
		version, value, ok := strings.Cut(entry, ",")
		if !ok {
			return nil, fmt.Errorf("parse signature header: %w: entry %d has no comma", ErrMalformedHeader, len(sigs)+1)
		}
		if !validVersion(version) {
			return nil, fmt.Errorf("parse signature header: %w: entry %d has an invalid version", ErrMalformedHeader, len(sigs)+1)
		}
		if !validValue(value) {
			return nil, fmt.Errorf("parse signature header: %w: entry %d has an invalid value", ErrMalformedHeader, len(sigs)+1)
		}
		sigs = append(sigs, Signature{Version: version, Value: value})
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("parse signature header: %w: no entries", ErrMalformedHeader)
	}
	return sigs, nil
}

func validVersion(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func validValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c > '~' || c == ',' {
			return false
		}
	}
	return true
}

// checkID reports why id cannot be a webhook-id, or nil. A '.' would make the
// signed content id.timestamp.body ambiguous: the signature for id "a",
// timestamp 1 and body "2.x" would also be valid for id "a.1", timestamp 2
// and body "x".
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("id is empty")
	case len(id) > maxIDLen:
		return fmt.Errorf("id is %d bytes, limit %d", len(id), maxIDLen)
	case strings.Contains(id, "."):
		return errors.New("id contains '.', which the spec forbids")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return errors.New("id contains a byte that is not printable ASCII")
		}
	}
	return nil
}

// parseTimestamp parses a webhook-timestamp header. Only canonical decimal
// integers are accepted (no sign, no leading zeros), so the text that was
// signed is exactly the text of the parsed value and no two header values
// denote the same time.
func parseTimestamp(s string) (time.Time, error) {
	if s == "" || len(s) > 19 {
		return time.Time{}, errors.New("timestamp is not a decimal integer")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, errors.New("timestamp is not a decimal integer")
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return time.Time{}, errors.New("timestamp has leading zeros")
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, errors.New("timestamp is out of range")
	}
	return time.Unix(sec, 0), nil
}

// signedContent returns id.timestamp.body, the bytes every scheme signs.
func signedContent(id, ts string, body []byte) []byte {
	b := make([]byte, 0, len(id)+1+len(ts)+1+len(body))
	b = append(b, id...)
	b = append(b, '.')
	b = append(b, ts...)
	b = append(b, '.')
	return append(b, body...)
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// decodeSignature decodes a signature value of a known version, which must be
// canonical standard base64 of exactly n bytes.
func decodeSignature(value string, n int) ([]byte, bool) {
	if len(value) != base64.StdEncoding.EncodedLen(n) {
		return nil, false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) != n {
		return nil, false
	}
	return raw, true
}

// Verifier checks deliveries against a set of trusted keys. It is how a
// hotline's intake decides whether to accept a delivery. Several keys allow
// zero-downtime rotation: trust the old and the new key until the sender has
// switched, then drop the old one.
//
// Build one with [NewVerifier]. A Verifier is safe for concurrent use as long
// as Tolerance is not changed while Verify runs.
type Verifier struct {
	// Tolerance is how far a delivery's timestamp may be from now, in either
	// direction. NewVerifier sets it to DefaultTolerance; zero or a negative
	// value also means DefaultTolerance, so the check cannot be switched off
	// by accident.
	Tolerance time.Duration

	hmacKeys    [][]byte
	ed25519Keys []ed25519.PublicKey
}

// NewVerifier returns a Verifier that trusts the given keys, in any mix:
// "whsec_" HMAC secrets (or bare base64 HMAC secrets, as the official
// libraries accept) and "whpk_" Ed25519 public keys. A "whsk_" secret signing
// key is refused: the receiver needs only the public key, and should not hold
// the secret one. Errors wrap [ErrMalformedKey] and never contain key
// material.
func NewVerifier(keys ...string) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("new verifier: %w: no keys given", ErrMalformedKey)
	}
	v := &Verifier{Tolerance: DefaultTolerance}
	for i, k := range keys {
		switch {
		case strings.HasPrefix(k, prefixEd25519Public):
			pub, err := parseEd25519PublicKey(k)
			if err != nil {
				return nil, fmt.Errorf("new verifier: key %d: %w", i+1, err)
			}
			v.ed25519Keys = append(v.ed25519Keys, pub)
		case strings.HasPrefix(k, prefixEd25519Secret):
			return nil, fmt.Errorf("new verifier: key %d: %w: got a whsk_ secret signing key; give the verifier the matching whpk_ public key instead", i+1, ErrMalformedKey)
		default:
			key, err := parseHMACSecret(k)
			if err != nil {
				return nil, fmt.Errorf("new verifier: key %d: %w", i+1, err)
			}
			v.hmacKeys = append(v.hmacKeys, key)
		}
	}
	return v, nil
}

// Verify checks a delivery's headers and body, using now as the current time
// (normally time.Now()), and returns the message id and timestamp it carried.
// Callers should pass the body exactly as received, before any JSON decoding,
// and should use the id to drop duplicate deliveries.
//
// The error wraps [ErrMissingHeaders], [ErrMalformedHeader],
// [ErrTimestampTooOld], [ErrTimestampTooNew] or [ErrBadSignature]. The
// timestamp is checked before any signature, so a stale delivery is reported
// as stale whether or not its signature is valid.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) (id string, ts time.Time, err error) {
	id, tsText, ts, sigs, err := v.checkHeaders(h, now)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("verify webhook: %w", err)
	}
	if !v.signed(sigs, signedContent(id, tsText, body)) {
		return "", time.Time{}, fmt.Errorf("verify webhook: %w", ErrBadSignature)
	}
	return id, ts, nil
}

// SignedPrefix returns what a delivery's signatures cover before its
// body: the id and the timestamp as h carries them, each followed by a
// '.', or "" if either is missing or repeated. A receiver that reads the
// body after it, into one buffer, can verify that with [Verifier.VerifyContent]
// and save the copy of the body [Verifier.Verify] makes.
func SignedPrefix(h http.Header) string {
	id, ts, _, err := deliveryHeaders(h)
	if err != nil {
		return ""
	}
	return id + "." + ts + "."
}

// VerifyContent is [Verifier.Verify] for content, the delivery's body with
// [SignedPrefix] of its headers before it, and returns the body, which
// is content without the prefix. Content that does not start with the
// prefix wraps [ErrBadSignature].
func (v *Verifier) VerifyContent(h http.Header, content []byte, now time.Time) (id string, ts time.Time, body []byte, err error) {
	id, tsText, ts, sigs, err := v.checkHeaders(h, now)
	if err != nil {
		return "", time.Time{}, nil, fmt.Errorf("verify webhook: %w", err)
	}
	n := len(id) + 1 + len(tsText) + 1
	if len(content) < n || string(content[:n]) != id+"."+tsText+"." {
		return "", time.Time{}, nil, fmt.Errorf("verify webhook: %w: the content does not start with the headers' id and timestamp", ErrBadSignature)
	}
	if !v.signed(sigs, content) {
		return "", time.Time{}, nil, fmt.Errorf("verify webhook: %w", ErrBadSignature)
	}
	return id, ts, content[n:], nil
}

// signed reports whether one of sigs is a valid signature of msg, the
// signed content, by one of v's keys.
func (v *Verifier) signed(sigs []Signature, msg []byte) bool {
	var macs [][]byte
	edEntries := 0
	for _, s := range sigs {
		switch s.Version {
		case versionHMAC:
			raw, ok := decodeSignature(s.Value, sha256.Size)
			if !ok {
				continue
			}
			if macs == nil {
				for _, k := range v.hmacKeys {
					macs = append(macs, hmacSHA256(k, msg))
				}
			}
			for _, mac := range macs {
				if hmac.Equal(raw, mac) {
					return true
				}
			}
		case versionEd25519:
			raw, ok := decodeSignature(s.Value, ed25519.SignatureSize)
			if !ok {
				continue
			}
			if edEntries++; edEntries > maxEd25519Entries {
				continue
			}
			for _, pub := range v.ed25519Keys {
				if ed25519.Verify(pub, msg, raw) {
					return true
				}
			}
		}
	}
	return false
}

// CheckHeaders checks what Verify checks before the signature: the three
// headers present once each and well formed, and the timestamp within the
// tolerance of now. A receiver calls it before reading the body, so that
// a request that cannot verify is refused without waiting for one; Verify
// checks all of it again. The error wraps the same errors as Verify's.
func (v *Verifier) CheckHeaders(h http.Header, now time.Time) error {
	if _, _, _, _, err := v.checkHeaders(h, now); err != nil {
		return fmt.Errorf("verify webhook: %w", err)
	}
	return nil
}

// checkHeaders returns a delivery's id, its timestamp as sent and parsed,
// and its signatures, once the headers are well formed and the timestamp
// within the tolerance of now.
func (v *Verifier) checkHeaders(h http.Header, now time.Time) (id, tsText string, ts time.Time, sigs []Signature, err error) {
	id, tsText, sigText, err := deliveryHeaders(h)
	if err != nil {
		return "", "", time.Time{}, nil, err
	}
	if err := checkID(id); err != nil {
		return "", "", time.Time{}, nil, fmt.Errorf("%w: %s: %v", ErrMalformedHeader, HeaderID, err)
	}
	ts, err = parseTimestamp(tsText)
	if err != nil {
		return "", "", time.Time{}, nil, fmt.Errorf("%w: %s: %v", ErrMalformedHeader, HeaderTimestamp, err)
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	switch age := now.Sub(ts); {
	case age > tolerance:
		return "", "", time.Time{}, nil, fmt.Errorf("%w: signed %v ago, tolerance %v", ErrTimestampTooOld, age.Truncate(time.Second), tolerance)
	case age < -tolerance:
		return "", "", time.Time{}, nil, fmt.Errorf("%w: signed %v in the future, tolerance %v", ErrTimestampTooNew, (-age).Truncate(time.Second), tolerance)
	}
	sigs, err = ParseSignatureHeader(sigText)
	if err != nil {
		return "", "", time.Time{}, nil, err
	}
	return id, tsText, ts, sigs, nil
}

// deliveryHeaders returns the three webhook headers, each of which must be
// present exactly once and non-empty. A repeated header is rejected rather
// than resolved, because two parties could resolve it differently.
func deliveryHeaders(h http.Header) (id, ts, sig string, err error) {
	names := [3]string{HeaderID, HeaderTimestamp, HeaderSignature}
	var vals [3]string
	var missing []string
	for i, name := range names {
		vs := h.Values(name)
		if len(vs) == 0 || vs[0] == "" {
			missing = append(missing, name)
			continue
		}
		vals[i] = vs[0]
	}
	if missing != nil {
		return "", "", "", fmt.Errorf("%w: %s", ErrMissingHeaders, strings.Join(missing, ", "))
	}
	for _, name := range names {
		if len(h.Values(name)) > 1 {
			return "", "", "", fmt.Errorf("%w: %s: header repeated", ErrMalformedHeader, name)
		}
	}
	return vals[0], vals[1], vals[2], nil
}

// Format writes a summary of v without its HMAC secrets, whatever the verb,
// so logging a Verifier cannot leak them.
func (v Verifier) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "delivery.Verifier{hmac keys: %d, ed25519 keys: %d, tolerance: %v}", len(v.hmacKeys), len(v.ed25519Keys), v.Tolerance)
}

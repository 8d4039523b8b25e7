// Package statement implements the hotline's signed key statement, as
// specified in docs/key-statement.md: a short text, signed with the
// hotline's offline Ed25519 key, that says which age recipients a report
// for the hotline may be sealed to, from when until when, and with which
// serial number.
//
// The relay carries the statement; it cannot make one. The report form
// seals only to the recipients of a statement whose signature verifies
// against the hotline's verification key, which reaches the form by a path
// the relay does not control (the embed snippet's data-hotline-key, or a
// frame the hotline serves itself).
//
// This file parses and checks a statement without any cryptography, so
// the browser module can use it and verify the signature with WebCrypto;
// signing and verifying in Go are in sign.go, which the module does not
// build.
package statement

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the first line of every statement; it also separates the
// statement's signatures from any other Ed25519 signature.
const Header = "reportline-key-statement v1"

// Limits of a statement.
const (
	// MaxSize bounds a whole statement: twenty post-quantum recipients
	// of about 2,000 characters each, and the lines around them.
	MaxSize = 48 << 10
	// MaxRecipients bounds the recipients a statement may list.
	MaxRecipients = 20
)

// Prefixes of the two key strings.
const (
	// VerificationKeyPrefix starts a verification key string, the one the
	// hotline gives to partners and relays.
	VerificationKeyPrefix = "hlvk_"
	// SigningKeyPrefix starts a signing key string; it stays offline
	// with the hotline.
	SigningKeyPrefix = "hlsk_"
)

// Errors a statement can fail with; each is wrapped with the detail.
var (
	// ErrMalformed: the text is not a statement as docs/key-statement.md
	// writes one.
	ErrMalformed = errors.New("malformed key statement")
	// ErrSignature: the signature does not verify against the key.
	ErrSignature = errors.New("key statement signature does not verify")
	// ErrExpired: the statement's validity period has ended.
	ErrExpired = errors.New("key statement expired")
	// ErrNotYetValid: the statement's validity period has not begun.
	ErrNotYetValid = errors.New("key statement not yet valid")
	// ErrHotline: the statement is another hotline's.
	ErrHotline = errors.New("key statement is for another hotline")
	// ErrRollback: the serial is lower than one already seen.
	ErrRollback = errors.New("key statement rolled back")
	// ErrKey: a key string is malformed.
	ErrKey = errors.New("malformed hotline key")
)

// Statement is a parsed key statement.
type Statement struct {
	// Hotline is the hotline's id, as the relay's config names it.
	Hotline string
	// Serial orders statements: a higher serial replaces a lower one.
	Serial uint64
	// ValidFrom and ValidUntil bound when the statement may be used.
	ValidFrom, ValidUntil time.Time
	// Recipients are the age recipients a report may be sealed to.
	Recipients []string
	// Signature is the Ed25519 signature over SignedText.
	Signature []byte

	signed []byte
}

// SignedText returns the bytes the signature covers: every line before
// the signature line, each with its newline.
func (s *Statement) SignedText() []byte { return s.signed }

// Body returns the text to sign for s's fields, which Sign and the tests
// use; a statement is its body followed by the signature line.
func (s *Statement) Body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nhotline %s\nserial %d\nvalid-from %s\nvalid-until %s\n", Header, s.Hotline, s.Serial,
		s.ValidFrom.UTC().Format(time.RFC3339), s.ValidUntil.UTC().Format(time.RFC3339))
	for _, r := range s.Recipients {
		fmt.Fprintf(&b, "recipient %s\n", r)
	}
	return b.Bytes()
}

// String returns the statement's text, signature included.
func (s *Statement) String() string {
	return string(s.Body()) + "signature " + base64.StdEncoding.EncodeToString(s.Signature) + "\n"
}

// Parse reads a statement's text. It checks the form only: the signature
// is checked by Verify (or WebCrypto in the browser) and the validity and
// hotline by Check. A statement has exactly one text: anything else, even
// an extra space, is refused.
func Parse(text []byte) (*Statement, error) {
	if len(text) > MaxSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxSize)
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return nil, fmt.Errorf("%w: it must end with a newline after the signature line", ErrMalformed)
	}
	if bytes.IndexByte(text, '\r') >= 0 {
		return nil, fmt.Errorf("%w: it has carriage returns: keep the file's line ends as the hotline wrote them (LF)", ErrMalformed)
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if lines[0] != Header {
		return nil, fmt.Errorf("%w: the first line must be %q", ErrMalformed, Header)
	}
	if len(lines) < 7 {
		return nil, fmt.Errorf("%w: it needs hotline, serial, valid-from, valid-until, at least one recipient and a signature", ErrMalformed)
	}
	s := &Statement{}
	field := func(i int, name string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], name+" ")
		if !ok || v == "" || strings.TrimSpace(v) != v {
			return "", fmt.Errorf("%w: line %d must be %q followed by one space and a value", ErrMalformed, i+1, name)
		}
		return v, nil
	}
	var err error
	if s.Hotline, err = field(1, "hotline"); err != nil {
		return nil, err
	}
	if !validID(s.Hotline) {
		return nil, fmt.Errorf("%w: hotline %q is not an id of lower-case letters, digits and dashes", ErrMalformed, s.Hotline)
	}
	v, err := field(2, "serial")
	if err != nil {
		return nil, err
	}
	if s.Serial, err = strconv.ParseUint(v, 10, 64); err != nil || s.Serial == 0 || strconv.FormatUint(s.Serial, 10) != v {
		return nil, fmt.Errorf("%w: serial %q is not a whole number from 1 up, without leading zeros", ErrMalformed, v)
	}
	for i, dst := range []*time.Time{&s.ValidFrom, &s.ValidUntil} {
		name := []string{"valid-from", "valid-until"}[i]
		v, err := field(3+i, name)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil || t.UTC().Format(time.RFC3339) != v {
			return nil, fmt.Errorf("%w: %s %q is not a UTC time like 2026-01-31T12:00:00Z", ErrMalformed, name, v)
		}
		*dst = t
	}
	if !s.ValidUntil.After(s.ValidFrom) {
		return nil, fmt.Errorf("%w: valid-until is not after valid-from", ErrMalformed)
	}
	last := len(lines) - 1
	for i := 5; i < last; i++ {
		r, err := field(i, "recipient")
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(r, "age1") || strings.ContainsAny(r, " \t\r") {
			return nil, fmt.Errorf("%w: line %d: %q is not an age recipient", ErrMalformed, i+1, r)
		}
		s.Recipients = append(s.Recipients, r)
	}
	if len(s.Recipients) > MaxRecipients {
		return nil, fmt.Errorf("%w: more than %d recipients", ErrMalformed, MaxRecipients)
	}
	sig, err := field(last, "signature")
	if err != nil {
		return nil, err
	}
	if s.Signature, err = base64.StdEncoding.Strict().DecodeString(sig); err != nil || len(s.Signature) != 64 {
		return nil, fmt.Errorf("%w: the signature is not 64 bytes in base64", ErrMalformed)
	}
	s.signed = text[:len(text)-len(lines[last])-1]
	return s, nil
}

// validID reports whether id is a hotline id as the relay's config allows.
func validID(id string) bool {
	if id == "" || len(id) > 63 || id[0] == '-' {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Check checks what a verified statement says against what its user
// expects: that it is the given hotline's, that now (give or take skew,
// for a device whose clock is off) is within its validity period, and
// that its serial is at least minSerial, the highest one its user has
// seen or been told of.
func (s *Statement) Check(hotline string, minSerial uint64, now time.Time, skew time.Duration) error {
	switch {
	case s.Hotline != hotline:
		return fmt.Errorf("%w: it names hotline %q, not %q", ErrHotline, s.Hotline, hotline)
	case now.Add(skew).Before(s.ValidFrom):
		return fmt.Errorf("%w: valid from %s", ErrNotYetValid, s.ValidFrom.Format(time.RFC3339))
	case !now.Add(-skew).Before(s.ValidUntil):
		return fmt.Errorf("%w: valid until %s", ErrExpired, s.ValidUntil.Format(time.RFC3339))
	case s.Serial < minSerial:
		return fmt.Errorf("%w: serial %d is lower than %d, seen before", ErrRollback, s.Serial, minSerial)
	}
	return nil
}

// ParseVerificationKey decodes a "hlvk_…" string into the raw 32-byte
// Ed25519 public key.
func ParseVerificationKey(k string) ([]byte, error) {
	return parseKey(k, VerificationKeyPrefix, "verification")
}

func parseKey(k, prefix, what string) ([]byte, error) {
	rest, ok := strings.CutPrefix(k, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: a hotline %s key starts with %q", ErrKey, what, prefix)
	}
	// The decoder skips newlines; a key string has none.
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != 32 || strings.ContainsAny(rest, "\r\n") {
		return nil, fmt.Errorf("%w: the %s key is not 32 bytes in unpadded base64url after %q", ErrKey, what, prefix)
	}
	return b, nil
}

// FormatVerificationKey writes a raw 32-byte Ed25519 public key as the
// "hlvk_…" string hotlines hand out.
func FormatVerificationKey(raw []byte) string {
	return VerificationKeyPrefix + base64url(raw)
}

func base64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

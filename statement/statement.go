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
	"encoding/hex"
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
	return string(s.Body()) + "signature " + hex.EncodeToString(s.Signature) + "\n"
}

// Parse reads a statement's text. It checks the form only: the signature
// is checked by Verify (or WebCrypto in the browser) and the validity and
// hotline by Check. A statement has exactly one text: anything else, even
// an extra space, is refused.
func Parse(text []byte) (*Statement, error) {
	switch {
	case len(text) > MaxSize:
		return nil, malformed("longer than %d bytes", MaxSize)
	case len(text) == 0 || text[len(text)-1] != '\n':
		return nil, malformed("it must end with a newline after the signature line")
	case bytes.IndexByte(text, '\r') >= 0:
		return nil, malformed("it has carriage returns: keep the file's line ends as the hotline wrote them (LF)")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if lines[0] != Header {
		return nil, malformed("the first line must be %q", Header)
	}
	if len(lines) < 7 {
		return nil, malformed("it needs hotline, serial, valid-from, valid-until, at least one recipient and a signature")
	}
	last := len(lines) - 1
	if last-5 > MaxRecipients {
		return nil, malformed("more than %d recipients", MaxRecipients)
	}
	// values[i] is line i's value, once its name is checked.
	values := make([]string, len(lines))
	for i := 1; i < len(lines); i++ {
		name := "recipient"
		if i < len(fieldNames) {
			name = fieldNames[i]
		}
		if i == last {
			name = "signature"
		}
		v, ok := strings.CutPrefix(lines[i], name+" ")
		if !ok || v == "" || strings.TrimSpace(v) != v || strings.IndexByte(v, ' ') >= 0 {
			return nil, malformed("line %d must be %q, one space and a value without spaces", i+1, name)
		}
		values[i] = v
	}
	s := &Statement{Hotline: values[1], Recipients: values[5:last]}
	if !validID(s.Hotline) {
		return nil, malformed("hotline %q is not an id of lower-case letters, digits and dashes", s.Hotline)
	}
	var err error
	if s.Serial, err = strconv.ParseUint(values[2], 10, 64); err != nil || s.Serial == 0 || values[2][0] == '0' {
		return nil, malformed("serial %q is not a whole number from 1 up, without leading zeros", values[2])
	}
	for i, dst := range []*time.Time{&s.ValidFrom, &s.ValidUntil} {
		t, err := time.Parse(time.RFC3339, values[3+i])
		if err != nil || t.UTC().Format(time.RFC3339) != values[3+i] {
			return nil, malformed("%s %q is not a UTC time like 2026-01-31T12:00:00Z", fieldNames[3+i], values[3+i])
		}
		*dst = t
	}
	if !s.ValidUntil.After(s.ValidFrom) {
		return nil, malformed("valid-until is not after valid-from")
	}
	for _, r := range s.Recipients {
		if !strings.HasPrefix(r, "age1") {
			return nil, malformed("%q is not an age recipient", r)
		}
	}
	sig := values[last]
	s.Signature = make([]byte, 64)
	if len(sig) != 128 || strings.ToLower(sig) != sig {
		return nil, malformed("the signature is not 128 lower-case hexadecimal digits")
	}
	if _, err := hex.Decode(s.Signature, []byte(sig)); err != nil {
		return nil, malformed("the signature is not 128 lower-case hexadecimal digits")
	}
	s.signed = text[:len(text)-len(lines[last])-1]
	return s, nil
}

// fieldNames are the names of a statement's lines before its recipients.
var fieldNames = []string{"", "hotline", "serial", "valid-from", "valid-until"}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
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

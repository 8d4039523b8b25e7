//go:build !(js && wasm)

package statement

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
)

// SigningKey is a hotline's offline statement signing key. Its Format
// methods never print the secret.
type SigningKey struct{ key ed25519.PrivateKey }

// GenerateKey makes a new signing key.
func GenerateKey() (*SigningKey, error) {
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate a signing key: %w", err)
	}
	return &SigningKey{key: sk}, nil
}

// ParseSigningKey reads a signing key file's text: "#" comment lines and
// one "hlsk_…" line.
func ParseSigningKey(text []byte) (*SigningKey, error) {
	var found string
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if found != "" {
			return nil, fmt.Errorf("%w: more than one key line", ErrKey)
		}
		found = line
	}
	if found == "" {
		return nil, fmt.Errorf("%w: no %s… line", ErrKey, SigningKeyPrefix)
	}
	seed, err := parseKey(found, SigningKeyPrefix, "signing")
	if err != nil {
		return nil, err
	}
	return &SigningKey{key: ed25519.NewKeyFromSeed(seed)}, nil
}

// Secret returns the "hlsk_…" line to keep offline.
func (k *SigningKey) Secret() string {
	return SigningKeyPrefix + base64url(k.key.Seed())
}

// VerificationKey returns the "hlvk_…" string that partners and relays
// verify statements with.
func (k *SigningKey) VerificationKey() string {
	return FormatVerificationKey(k.key.Public().(ed25519.PublicKey))
}

// Format prints the verification key only, so that a signing key logged
// by mistake does not leak.
func (k *SigningKey) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "SigningKey(%s)", k.VerificationKey())
}

// Sign checks s's fields, signs them, and returns the statement's text.
func (k *SigningKey) Sign(s *Statement) ([]byte, error) {
	s.Signature = ed25519.Sign(k.key, s.Body())
	text := []byte(s.String())
	// What is signed must read back as the same statement.
	p, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the key statement: %w", err)
	}
	s.signed = p.signed
	return text, nil
}

// Verify checks s's signature against a "hlvk_…" verification key.
func (s *Statement) Verify(verificationKey string) error {
	pk, err := ParseVerificationKey(verificationKey)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pk, s.signed, s.Signature) {
		return fmt.Errorf("%w: it was not signed with %s", ErrSignature, verificationKey)
	}
	return nil
}

// CheckVerificationKey checks a verification key a person gave (a flag, a
// configuration value), as ParseVerificationKey does; the hotline's
// secret signing key given in its place is named as such, since it must
// stay offline at the hotline.
func CheckVerificationKey(k string) error {
	if strings.HasPrefix(strings.TrimSpace(k), SigningKeyPrefix) {
		return fmt.Errorf("%w: this is the hotline's secret signing key (%s…), which stays offline at the hotline: "+
			"give its verification key (%s…), which hotline keygen -sign printed", ErrKey, SigningKeyPrefix, VerificationKeyPrefix)
	}
	_, err := ParseVerificationKey(k)
	return err
}

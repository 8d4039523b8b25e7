package delivery

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Key string prefixes defined by the spec, which let code and secret scanners
// tell the kinds of key apart.
const (
	prefixHMACSecret    = "whsec_"
	prefixEd25519Secret = "whsk_"
	prefixEd25519Public = "whpk_"
)

// HMAC secret lengths from the spec: "at least 24 bytes (192 bits, 512
// maximum)", that is at most 512 bits.
const (
	minHMACSecretLen = 24
	maxHMACSecretLen = 64
	// generatedHMACSecretLen is what GenerateHMACSecret produces: 256 bits.
	generatedHMACSecretLen = 32
)

// Signer produces the webhook-signature header value for a delivery. It is an
// interface so the relay can sign with an HMAC secret, an Ed25519 key, or
// several keys during rotation (see [MultiSigner]) without caring which.
type Signer interface {
	// Sign returns one or more space-separated "version,base64" signature
	// entries over id + "." + ts.Unix() + "." + body. Only whole seconds of ts
	// are signed. It fails if id is empty, contains '.', is longer than 256
	// bytes or contains bytes that are not printable ASCII, or if ts is before
	// 1970.
	Sign(id string, ts time.Time, body []byte) (string, error)
}

func signInput(id string, ts time.Time, body []byte) ([]byte, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	sec := ts.Unix()
	if sec < 0 {
		return nil, errors.New("timestamp is before 1970")
	}
	return signedContent(id, strconv.FormatInt(sec, 10), body), nil
}

// HMACSigner signs with HMAC-SHA256, signature version v1. It exists for
// intakes that can only hold a shared secret; prefer [Ed25519Signer] when
// both ends support it, as the spec recommends.
type HMACSigner struct {
	key []byte
}

// NewHMACSigner returns a signer for a "whsec_" secret, or for the same
// base64 without the prefix, as the official libraries accept. The secret
// must decode to 24 to 64 bytes. Errors wrap [ErrMalformedKey] and never
// contain key material.
func NewHMACSigner(secret string) (*HMACSigner, error) {
	key, err := parseHMACSecret(secret)
	if err != nil {
		return nil, fmt.Errorf("new hmac signer: %w", err)
	}
	return &HMACSigner{key: key}, nil
}

// Sign implements [Signer], returning a single v1 entry.
func (s *HMACSigner) Sign(id string, ts time.Time, body []byte) (string, error) {
	msg, err := signInput(id, ts, body)
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	return versionHMAC + "," + base64.StdEncoding.EncodeToString(hmacSHA256(s.key, msg)), nil
}

// Format writes a placeholder instead of the secret, whatever the verb, so
// logging a signer cannot leak it.
func (s HMACSigner) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, "delivery.HMACSigner{secret redacted}")
}

// Ed25519Signer signs with Ed25519, signature version v1a. Receivers verify
// with the public key alone, so a compromised intake cannot forge reports.
type Ed25519Signer struct {
	key ed25519.PrivateKey
}

// NewEd25519Signer returns a signer for a "whsk_" secret key: the base64 of a
// 64-byte Ed25519 private key (seed followed by public key), or of the 32-byte
// seed alone. The prefix is required, so a public key or HMAC secret passed
// by mistake is reported instead of being used as a seed. Errors wrap
// [ErrMalformedKey] and never contain key material.
func NewEd25519Signer(secretKey string) (*Ed25519Signer, error) {
	key, err := parseEd25519SecretKey(secretKey)
	if err != nil {
		return nil, fmt.Errorf("new ed25519 signer: %w", err)
	}
	return &Ed25519Signer{key: key}, nil
}

// Sign implements [Signer], returning a single v1a entry.
func (s *Ed25519Signer) Sign(id string, ts time.Time, body []byte) (string, error) {
	msg, err := signInput(id, ts, body)
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	return versionEd25519 + "," + base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, msg)), nil
}

// PublicKey returns the "whpk_" public key to give receivers, so they can
// build a [Verifier] without ever seeing the secret key.
func (s *Ed25519Signer) PublicKey() string {
	return prefixEd25519Public + base64.StdEncoding.EncodeToString(s.key.Public().(ed25519.PublicKey))
}

// Format writes the public key and a placeholder instead of the secret key,
// whatever the verb, so logging a signer cannot leak it.
func (s Ed25519Signer) Format(f fmt.State, verb rune) {
	if len(s.key) != ed25519.PrivateKeySize {
		fmt.Fprint(f, "delivery.Ed25519Signer{}")
		return
	}
	fmt.Fprintf(f, "delivery.Ed25519Signer{public: %s, secret redacted}", s.PublicKey())
}

// MultiSigner returns a Signer whose Sign joins the entries of all the given
// signers, in order, with spaces. It implements the spec's zero-downtime key
// rotation: sign with the old and the new key until every receiver trusts the
// new one. Sign fails if there are no signers or the result would exceed the
// header limits of [ParseSignatureHeader].
func MultiSigner(signers ...Signer) Signer {
	return multiSigner(append([]Signer(nil), signers...))
}

type multiSigner []Signer

func (m multiSigner) Sign(id string, ts time.Time, body []byte) (string, error) {
	if len(m) == 0 {
		return "", errors.New("sign webhook: no signers")
	}
	parts := make([]string, 0, len(m))
	for _, s := range m {
		if s == nil {
			return "", errors.New("sign webhook: nil signer")
		}
		p, err := s.Sign(id, ts, body)
		if err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	header := strings.Join(parts, " ")
	if _, err := ParseSignatureHeader(header); err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	return header, nil
}

// SetHeaders signs a delivery with s and sets the webhook-id,
// webhook-timestamp and webhook-signature headers on h, replacing any
// previous values. It is the sending half of [Verifier.Verify]. The body must
// be sent exactly as passed here. Only whole seconds of ts are used.
func SetHeaders(h http.Header, s Signer, id string, ts time.Time, body []byte) error {
	if s == nil {
		return errors.New("set webhook headers: nil signer")
	}
	// Check the inputs here too, so a custom Signer cannot make us send a
	// delivery that receivers would reject or misread.
	if _, err := signInput(id, ts, nil); err != nil {
		return fmt.Errorf("set webhook headers: %w", err)
	}
	sig, err := s.Sign(id, ts, body)
	if err != nil {
		return fmt.Errorf("set webhook headers: %w", err)
	}
	if _, err := ParseSignatureHeader(sig); err != nil {
		return fmt.Errorf("set webhook headers: %w", err)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// GenerateHMACSecret returns a new random "whsec_" secret of 32 bytes, for
// setting up a v1 sender and receiver.
func GenerateHMACSecret() (string, error) {
	b := make([]byte, generatedHMACSecretLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate hmac secret: %w", err)
	}
	return prefixHMACSecret + base64.StdEncoding.EncodeToString(b), nil
}

// GenerateEd25519 returns a new v1a key pair: the "whsk_" secret key for the
// sender (64-byte private key) and the "whpk_" public key for receivers.
func GenerateEd25519() (secretKey, publicKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate ed25519 key: %w", err)
	}
	return prefixEd25519Secret + base64.StdEncoding.EncodeToString(priv),
		prefixEd25519Public + base64.StdEncoding.EncodeToString(pub), nil
}

// parseHMACSecret decodes a "whsec_" or bare base64 HMAC secret.
func parseHMACSecret(s string) ([]byte, error) {
	switch {
	case strings.HasPrefix(s, prefixEd25519Secret):
		return nil, fmt.Errorf("%w: got a whsk_ Ed25519 secret key, want a whsec_ HMAC secret", ErrMalformedKey)
	case strings.HasPrefix(s, prefixEd25519Public):
		return nil, fmt.Errorf("%w: got a whpk_ Ed25519 public key, want a whsec_ HMAC secret", ErrMalformedKey)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, prefixHMACSecret))
	if err != nil {
		return nil, fmt.Errorf("%w: HMAC secret is not whsec_ followed by standard base64", ErrMalformedKey)
	}
	if len(key) < minHMACSecretLen || len(key) > maxHMACSecretLen {
		return nil, fmt.Errorf("%w: HMAC secret is %d bytes, want %d to %d", ErrMalformedKey, len(key), minHMACSecretLen, maxHMACSecretLen)
	}
	return key, nil
}

// parseEd25519SecretKey decodes a "whsk_" key holding a 64-byte private key or
// a 32-byte seed. For the 64-byte form, the public half must match the seed,
// so a corrupted key is caught here rather than producing signatures that no
// receiver accepts.
func parseEd25519SecretKey(s string) (ed25519.PrivateKey, error) {
	if !strings.HasPrefix(s, prefixEd25519Secret) {
		switch {
		case strings.HasPrefix(s, prefixEd25519Public):
			return nil, fmt.Errorf("%w: got a whpk_ public key; signing needs the whsk_ secret key", ErrMalformedKey)
		case strings.HasPrefix(s, prefixHMACSecret):
			return nil, fmt.Errorf("%w: got a whsec_ HMAC secret; use NewHMACSigner", ErrMalformedKey)
		}
		return nil, fmt.Errorf("%w: Ed25519 secret key lacks the whsk_ prefix", ErrMalformedKey)
	}
	raw, err := base64.StdEncoding.DecodeString(s[len(prefixEd25519Secret):])
	if err != nil {
		return nil, fmt.Errorf("%w: Ed25519 secret key is not whsk_ followed by standard base64", ErrMalformedKey)
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		key := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(key[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("%w: Ed25519 secret key's public half does not match its seed", ErrMalformedKey)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: Ed25519 secret key is %d bytes, want %d or %d", ErrMalformedKey, len(raw), ed25519.PrivateKeySize, ed25519.SeedSize)
}

// parseEd25519PublicKey decodes a "whpk_" key holding a 32-byte public key.
func parseEd25519PublicKey(s string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(s, prefixEd25519Public) {
		return nil, fmt.Errorf("%w: Ed25519 public key lacks the whpk_ prefix", ErrMalformedKey)
	}
	raw, err := base64.StdEncoding.DecodeString(s[len(prefixEd25519Public):])
	if err != nil {
		return nil, fmt.Errorf("%w: Ed25519 public key is not whpk_ followed by standard base64", ErrMalformedKey)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 public key is %d bytes, want %d", ErrMalformedKey, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

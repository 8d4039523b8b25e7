package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// maxKeyFileLen bounds a key file: a key is under 100 bytes, and the
// comments `relay keygen` writes are a few lines.
const maxKeyFileLen = 16 << 10

// ErrKeyFile means a key file does not hold exactly one key.
var ErrKeyFile = errors.New("malformed key file")

// ParseKeyFile returns the one key in a key file: the file's only line
// that is neither empty nor a comment starting with '#', without the
// spaces around it. Keys live in files, not in the relay's configuration,
// so that the configuration can be shared and kept under version control
// without a secret in it. It does not check the key's format; the
// signer or verifier that takes it does. Errors wrap [ErrKeyFile] and
// never contain key material.
func ParseKeyFile(b []byte) (string, error) {
	if len(b) > maxKeyFileLen {
		return "", fmt.Errorf("%w: %d bytes, limit %d", ErrKeyFile, len(b), maxKeyFileLen)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: not UTF-8 text", ErrKeyFile)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	var key string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if key != "" {
			return "", fmt.Errorf("%w: a second key on line %d; keep one key per file", ErrKeyFile, i+1)
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return "", fmt.Errorf("%w: line %d holds spaces or control characters inside the key", ErrKeyFile, i+1)
		}
		key = line
	}
	if key == "" {
		return "", fmt.Errorf("%w: no key, only comments or blank lines", ErrKeyFile)
	}
	return key, nil
}

// ReadKeyFile reads the file at path and returns its one key, as
// [ParseKeyFile] does. The error names the file, never the key.
func ReadKeyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileLen+1))
	if err != nil {
		return "", fmt.Errorf("read key file %s: %w", path, err)
	}
	key, err := ParseKeyFile(b)
	if err != nil {
		return "", fmt.Errorf("read key file %s: %w", path, err)
	}
	return key, nil
}

// NewSigner returns the Signer for a secret key string: an HMAC signer
// for a "whsec_" secret, an Ed25519 signer for a "whsk_" key. Any other
// string is refused, so a public key is never taken for a secret.
func NewSigner(secret string) (Signer, error) {
	switch {
	case strings.HasPrefix(secret, prefixHMACSecret):
		return NewHMACSigner(secret)
	case strings.HasPrefix(secret, prefixEd25519Secret):
		return NewEd25519Signer(secret)
	}
	return nil, fmt.Errorf("new signer: %w: want a whsk_ Ed25519 secret key or a whsec_ HMAC secret", ErrMalformedKey)
}

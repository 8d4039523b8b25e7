//go:build !(js && wasm)

package pow

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/scrypt"
)

// DeriveKey derives the key of password with the parameters' function,
// costs and salt, natively: the relay issues challenges with it, and
// benchmarks measure a native sender's cost with it. (The browser module
// derives keys through WebCrypto; kdf_js.go says why it does not link
// this file.)
func DeriveKey(p *Parameters, password []byte) ([]byte, error) {
	if err := p.KDF().Check(); err != nil {
		return nil, err
	}
	switch p.Algorithm {
	case AlgorithmScrypt:
		return scrypt.Key(password, p.SaltBytes(), int(p.Cost), int(p.MemoryCost), 1, int(p.KeyLength))
	default:
		key, err := pbkdf2.Key(sha256.New, string(password), p.SaltBytes(), int(p.Cost), int(p.KeyLength))
		if err != nil {
			return nil, fmt.Errorf("failed to derive key: %w", err)
		}
		return key, nil
	}
}

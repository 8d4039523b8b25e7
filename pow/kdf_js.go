//go:build js && wasm

package pow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// DeriveKey derives the key of password with the parameters' function,
// costs and salt, in Go: in the browser only the package's tests under
// Node issue challenges with it; the widget derives keys through
// WebCrypto. It is PBKDF2-HMAC-SHA-256 written over crypto/hmac, because
// importing crypto/pbkdf2 (or scrypt, which uses it) would link its
// self-test into the module, whose size is budgeted. Scrypt is not
// derived here.
func DeriveKey(p *Parameters, password []byte) ([]byte, error) {
	if err := p.KDF().Check(); err != nil {
		return nil, err
	}
	if p.Algorithm != AlgorithmPBKDF2 {
		return nil, fmt.Errorf("failed to derive key: %s is not derived in the browser", p.Algorithm)
	}
	prf := hmac.New(sha256.New, password)
	var key []byte
	for block := uint32(1); len(key) < int(p.KeyLength); block++ {
		prf.Reset()
		prf.Write(p.SaltBytes())
		prf.Write(binary.BigEndian.AppendUint32(nil, block))
		u := prf.Sum(nil)
		t := append([]byte(nil), u...)
		for range p.Cost - 1 {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		key = append(key, t...)
	}
	return key[:p.KeyLength], nil
}

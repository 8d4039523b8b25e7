//go:build !(js && wasm)

package statement

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
)

// SignText signs another signed text of the hotline's, such as a reply to
// a reporter (docs/follow-up.md). Each such text starts with a header line
// of its own, so that a signature over one kind can never pass for
// another; a text that starts as a statement is refused.
func (k *SigningKey) SignText(text []byte) ([]byte, error) {
	if bytes.HasPrefix(text, []byte(Header)) || !bytes.HasPrefix(text, []byte("reportline-")) {
		return nil, errors.New("failed to sign: the text does not start with a header of its own")
	}
	return ed25519.Sign(k.key, text), nil
}

// VerifyText checks a signature made by SignText against a "hlvk_…"
// verification key.
func VerifyText(verificationKey string, text, sig []byte) error {
	pk, err := ParseVerificationKey(verificationKey)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pk, text, sig) {
		return fmt.Errorf("%w: it was not signed with %s", ErrSignature, verificationKey)
	}
	return nil
}

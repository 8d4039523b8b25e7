//go:build !(js && wasm)

package followup

import (
	"fmt"

	"github.com/reportline/reportline/statement"
)

// Sign checks r's fields, signs them with the hotline's signing key and
// returns the plaintext to seal.
func Sign(r *Reply, key *statement.SigningKey) ([]byte, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	r.Sent = r.Sent.UTC().Truncate(1e9)
	sig, err := key.SignText(r.Body())
	if err != nil {
		return nil, err
	}
	r.Signature = sig
	plain := r.Plaintext()
	if len(plain) != ReplySize {
		return nil, fmt.Errorf("%w: the signed reply has %d bytes, more than %d", ErrMalformed, len(plain), ReplySize)
	}
	p, err := ParseReply(plain)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the reply: %w", err)
	}
	r.signed = p.signed
	return plain, nil
}

// Verify checks r's signature against the hotline's "hlvk_…" key.
func (r *Reply) Verify(verificationKey string) error {
	if err := statement.VerifyText(verificationKey, r.signed, r.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// SignPost signs p with the hotline's signing key and returns its text.
func SignPost(p *Post, key *statement.SigningKey) ([]byte, error) {
	sig, err := key.SignText(p.Body())
	if err != nil {
		return nil, err
	}
	p.Signature = sig
	text := []byte(p.String())
	q, err := ParsePost(text)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the mailbox post: %w", err)
	}
	p.signed = q.signed
	return text, nil
}

// Verify checks p's signature against the hotline's "hlvk_…" key.
func (p *Post) Verify(verificationKey string) error {
	if err := statement.VerifyText(verificationKey, p.signed, p.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrPost, err)
	}
	return nil
}

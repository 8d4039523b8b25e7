package followup

import (
	"bytes"
	"fmt"
	"io"

	"filippo.io/age"
)

// EnvelopeSize is the length of every sealed reply: an age file to one
// ML-KEM-768 + X25519 recipient holding [ReplySize] bytes.
const EnvelopeSize = 1627 + 16 + ReplySize + 16 // header, nonce, payload, tag

// Seal encrypts a reply's plaintext to the reporter's "age1pq1…" key.
func Seal(plain []byte, recipient string) ([]byte, error) {
	if len(plain) != ReplySize {
		return nil, fmt.Errorf("failed to seal the reply: %d bytes, want %d", len(plain), ReplySize)
	}
	r, err := age.ParseHybridRecipient(recipient)
	if err != nil {
		return nil, fmt.Errorf("failed to seal the reply: the reporter's key: %w", err)
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("failed to seal the reply: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("failed to seal the reply: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to seal the reply: %w", err)
	}
	if out.Len() != EnvelopeSize {
		return nil, fmt.Errorf("failed to seal the reply: %d bytes, want %d", out.Len(), EnvelopeSize)
	}
	return out.Bytes(), nil
}

// Open decrypts a sealed reply with the reporter's identity and returns
// its plaintext. A slot of random filler fails here, as a reply for
// another key does.
func Open(envelope []byte, id age.Identity) ([]byte, error) {
	if len(envelope) != EnvelopeSize {
		return nil, fmt.Errorf("failed to open the reply: %d bytes, want %d", len(envelope), EnvelopeSize)
	}
	rd, err := age.Decrypt(bytes.NewReader(envelope), id)
	if err != nil {
		return nil, fmt.Errorf("failed to open the reply: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(rd, ReplySize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to open the reply: %w", err)
	}
	return plain, nil
}

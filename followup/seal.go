package followup

import (
	"encoding/base64"
	"fmt"

	"filippo.io/hpke"
)

// SealInfo is HPKE's info string for a sealed reply.
const SealInfo = "reportline-reply v1"

// Sizes of the reporter's key and of a sealed reply.
const (
	// PublicKeySize is the reporter's reply key: an ML-KEM-768 encapsulation
	// key and an X25519 point.
	PublicKeySize = 1184 + 32
	// RecipientLen is the length of the reply key as the report writes it,
	// in standard base64.
	RecipientLen = (PublicKeySize + 2) / 3 * 4
	// EnvelopeSize is the length of every sealed reply: the 1,120-byte
	// encapsulation, the payload and its 16-byte tag.
	EnvelopeSize = 1088 + 32 + ReplySize + 16
)

// suite is HPKE (RFC 9180) in base mode with the post-quantum hybrid KEM
// that age's own post-quantum recipients use, HKDF-SHA-256 and
// ChaCha20-Poly1305: what the report form already links to seal reports.
func suite() (hpke.KEM, hpke.KDF, hpke.AEAD) {
	return hpke.MLKEM768X25519(), hpke.HKDFSHA256(), hpke.ChaCha20Poly1305()
}

// Seal encrypts a reply's plaintext to the reporter's reply key, as the
// report's follow_up.reply_to gives it.
func Seal(plain []byte, recipient string) ([]byte, error) {
	if len(plain) != ReplySize {
		return nil, fmt.Errorf("failed to seal the reply: %d bytes, want %d", len(plain), ReplySize)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(recipient)
	if err != nil || len(raw) != PublicKeySize {
		return nil, fmt.Errorf("failed to seal the reply: the reporter's key is not %d bytes in standard base64", PublicKeySize)
	}
	kem, kdf, aead := suite()
	pk, err := kem.NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("failed to seal the reply: the reporter's key: %w", err)
	}
	out, err := hpke.Seal(pk, kdf, aead, []byte(SealInfo), plain)
	if err != nil {
		return nil, fmt.Errorf("failed to seal the reply: %w", err)
	}
	if len(out) != EnvelopeSize {
		return nil, fmt.Errorf("failed to seal the reply: %d bytes, want %d", len(out), EnvelopeSize)
	}
	return out, nil
}

// Open decrypts a sealed reply with the reporter's reply identity and
// returns its plaintext. A slot of random filler fails here, as a reply
// for another key does.
func Open(envelope []byte, id hpke.PrivateKey) ([]byte, error) {
	if len(envelope) != EnvelopeSize {
		return nil, fmt.Errorf("failed to open the reply: %d bytes, want %d", len(envelope), EnvelopeSize)
	}
	_, kdf, aead := suite()
	plain, err := hpke.Open(id, kdf, aead, []byte(SealInfo), envelope)
	if err != nil {
		return nil, fmt.Errorf("failed to open the reply: %w", err)
	}
	return plain, nil
}

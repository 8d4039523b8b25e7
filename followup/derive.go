package followup

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"

	"filippo.io/hpke"
	"golang.org/x/crypto/hkdf"
)

// Salt is HKDF's salt for every derivation; it names the protocol and its
// version, so that the same secret means nothing elsewhere.
const Salt = "reportline-follow-up v1"

// HKDF info labels, one per derived value.
const (
	labelMailbox  = "mailbox"
	labelIdentity = "reply-identity"
	labelRequest  = "request-key"
)

// Keys are the values derived from a receipt's secret.
type Keys struct {
	// Mailbox is the relay's name for the reporter's mailbox: 16 bytes in
	// lower-case hex. The hotline and the relay learn it.
	Mailbox string
	// Identity opens the hotline's replies; it never leaves the browser.
	Identity hpke.PrivateKey
	// Recipient is Identity's public key in standard base64; it travels
	// to the hotline inside the encrypted report.
	Recipient string
	// RequestKey proves to the relay that a fetch comes from the holder of
	// the receipt: 32 bytes, unpadded base64url in a fetch.
	RequestKey []byte
	// Check is what the relay keeps to recognise RequestKey: SHA-256 of
	// it, unpadded base64url. It travels inside the report; the hotline
	// gives it to the relay with its first reply.
	Check string
}

// Format prints the mailbox only, so that keys logged by mistake do not
// leak.
func (k *Keys) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "followup.Keys(%s)", k.Mailbox) }

// Derive computes the keys of a secret, as docs/follow-up.md specifies:
// HKDF-SHA-256 with the secret as input key material, [Salt] as salt, and
// one info label per value.
func Derive(s Secret) (*Keys, error) {
	mailbox := expand(s, labelMailbox, 16)
	kem, _, _ := suite()
	id, err := kem.NewPrivateKey(expand(s, labelIdentity, 32))
	if err != nil {
		return nil, fmt.Errorf("failed to derive the reply identity: %w", err)
	}
	k := &Keys{
		Mailbox:    hex.EncodeToString(mailbox),
		Identity:   id,
		Recipient:  base64.StdEncoding.EncodeToString(id.PublicKey().Bytes()),
		RequestKey: expand(s, labelRequest, 32),
	}
	k.Check = CheckOf(k.RequestKey)
	return k, nil
}

// CheckOf returns the check the relay keeps for a request key: SHA-256,
// unpadded base64url.
func CheckOf(requestKey []byte) string {
	h := sha256.Sum256(requestKey)
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func expand(s Secret, label string, n int) []byte {
	out := make([]byte, n)
	if _, err := io.ReadFull(hkdf.New(sha256.New, s[:], []byte(Salt), []byte(label)), out); err != nil {
		panic("followup: hkdf: " + err.Error()) // cannot happen for n ≤ 255·32
	}
	return out
}

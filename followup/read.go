package followup

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Verifier checks an Ed25519 signature with the hotline's verification
// key: WebCrypto in the browser, crypto/ed25519 elsewhere.
type Verifier func(signedText, signature []byte) (bool, error)

// Thread is what a fetch gives the reporter.
type Thread struct {
	// Replies are the replies that opened, parsed, named this hotline and
	// mailbox, and verified, oldest first.
	Replies []*Reply
	// Refused counts the values that opened with the reporter's key but
	// are not the hotline's: unsigned, mis-signed, malformed or for
	// another mailbox. The reporter is warned and shown none of their
	// text: a forged question is a way to phish.
	Refused int
	// Ack names (EnvelopeID) every value of the answer, in its order:
	// what the reporter's side acknowledges in its next fetch once the
	// thread is shown, so that the relay removes the replies among them.
	// All of them, filler too, so that the acknowledging fetch has the
	// same size whatever the mailbox held.
	Ack []string
}

// Read opens a fetch's answer with k, as docs/follow-up.md says the
// reporter's side does: a value that does not open is filler and is
// dropped; one that opens must parse, name hotline and k's mailbox, and
// verify, or it is refused.
func Read(a *FetchAnswer, k *Keys, hotline string, verify Verifier) (*Thread, error) {
	if len(a.Replies) != Slots {
		return nil, fmt.Errorf("failed to read the mailbox: %d values, want %d", len(a.Replies), Slots)
	}
	t := &Thread{}
	for _, v := range a.Replies {
		env, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil || len(env) != EnvelopeSize {
			return nil, fmt.Errorf("failed to read the mailbox: a value is not a %d-byte sealed reply in base64", EnvelopeSize)
		}
		h := sha256.Sum256(env) // EnvelopeID, which the module need not link
		t.Ack = append(t.Ack, hex.EncodeToString(h[:]))
		plain, err := Open(env, k.Identity)
		if err != nil {
			continue // filler, or not for this key
		}
		r, err := ParseReply(plain)
		if err != nil || r.CheckFor(hotline, k.Mailbox) != nil {
			t.Refused++
			continue
		}
		ok, err := verify(r.SignedText(), r.Signature)
		if err != nil {
			return nil, fmt.Errorf("failed to check a reply's signature: %w", err)
		}
		if !ok {
			t.Refused++
			continue
		}
		t.Replies = append(t.Replies, r)
	}
	// Oldest first; equal times keep their order. At most Slots replies,
	// so an insertion sort, which the browser module links no code for.
	for i := 1; i < len(t.Replies); i++ {
		for j := i; j > 0 && t.Replies[j].Sent.Before(t.Replies[j-1].Sent); j-- {
			t.Replies[j], t.Replies[j-1] = t.Replies[j-1], t.Replies[j]
		}
	}
	return t, nil
}

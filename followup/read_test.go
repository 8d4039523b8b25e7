package followup

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/reportline/reportline/statement"
)

// edVerifier verifies with crypto/ed25519, as WebCrypto does in the
// browser.
func edVerifier(t testing.TB, vk string) Verifier {
	pub, err := statement.ParseVerificationKey(vk)
	if err != nil {
		t.Fatal(err)
	}
	return func(text, sig []byte) (bool, error) { return ed25519.Verify(pub, text, sig), nil }
}

// answer seals each plaintext to k and fills the rest with random bytes,
// as the relay answers a fetch.
func answer(t *testing.T, k *Keys, plains ...[]byte) *FetchAnswer {
	a := &FetchAnswer{}
	for _, p := range plains {
		env, err := Seal(p, k.Recipient)
		if err != nil {
			t.Fatal(err)
		}
		a.Replies = append(a.Replies, base64.StdEncoding.EncodeToString(env))
	}
	for len(a.Replies) < Slots {
		b := make([]byte, EnvelopeSize)
		rand.Read(b)
		a.Replies = append(a.Replies, base64.StdEncoding.EncodeToString(b))
	}
	return a
}

// The reporter's side shows the hotline's signed replies, oldest first,
// drops filler silently, and refuses, without showing them, replies that
// are unsigned, signed by another key, changed after signing, or for
// another mailbox.
func TestRead(t *testing.T) {
	key, vk := testKey(t)
	other, _ := statement.GenerateKey()
	s, _ := NewSecret(rand.Reader)
	k, _ := Derive(s)
	sign := func(r *Reply, with *statement.SigningKey) []byte {
		p, err := Sign(r, with)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	later := testReply(k)
	earlier := testReply(k)
	earlier.Kind, earlier.Text, earlier.Sent = KindAcknowledgement, "Received.", later.Sent.Add(-time.Hour)
	forged := testReply(k)
	forged.Kind, forged.Text = KindQuestion, "Send us the pictures."
	changed, _ := ParseReply(sign(testReply(k), key))
	changed.Text = "Send us the pictures."
	unsigned := testReply(k)
	unsigned.Signature = make([]byte, 64)
	elsewhere := testReply(k)
	elsewhere.Mailbox = "00000000000000000000000000000000"

	th, err := Read(answer(t, k, sign(later, key), sign(earlier, key)), k, "de-hotline", edVerifier(t, vk))
	if err != nil {
		t.Fatal(err)
	}
	if th.Refused != 0 || len(th.Replies) != 2 || th.Replies[0].Text != "Received." || th.Replies[1].Text != later.Text {
		t.Fatalf("read %d replies (%d refused), want the two in order", len(th.Replies), th.Refused)
	}
	a := answer(t, k, sign(later, key), sign(forged, other))
	th, err = Read(a, k, "de-hotline", edVerifier(t, vk))
	if err != nil {
		t.Fatal(err)
	}
	// One shown, one refused, two filler: all four are acknowledged, in
	// the answer's order.
	if len(th.Ack) != Slots {
		t.Fatalf("Ack = %q, want the ids of all %d values", th.Ack, Slots)
	}
	for i, v := range a.Replies {
		if th.Ack[i] != envID(t, v) {
			t.Fatalf("Ack[%d] = %s, want the SHA-256 of value %d", i, th.Ack[i], i)
		}
	}
	for name, p := range map[string][]byte{
		"other key":     sign(forged, other),
		"changed":       changed.Plaintext(),
		"unsigned":      unsigned.Plaintext(),
		"other mailbox": sign(elsewhere, key),
	} {
		th, err := Read(answer(t, k, p), k, "de-hotline", edVerifier(t, vk))
		if err != nil {
			t.Fatal(err)
		}
		if len(th.Replies) != 0 || th.Refused != 1 {
			t.Errorf("%s: %d shown, %d refused; want 0 and 1", name, len(th.Replies), th.Refused)
		}
	}
	if th, _ := Read(answer(t, k, sign(later, key)), k, "fr-hotline", edVerifier(t, vk)); len(th.Replies) != 0 || th.Refused != 1 {
		t.Error("a reply named for another hotline was shown")
	}
	empty, err := Read(answer(t, k), k, "de-hotline", edVerifier(t, vk))
	if err != nil || len(empty.Replies) != 0 || empty.Refused != 0 || len(empty.Ack) != Slots {
		t.Fatalf("filler alone: %+v, %v", empty, err)
	}
	if _, err := Read(&FetchAnswer{Replies: []string{"x"}}, k, "de-hotline", edVerifier(t, vk)); err == nil {
		t.Fatal("a malformed answer was read")
	}
}

// envID is the EnvelopeID of a value in base64, written out here as the
// protocol says: SHA-256, lower-case hex.
func envID(t *testing.T, v string) string {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

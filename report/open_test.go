package report

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/age"
)

// An envelope whose payload was changed, cut short or holds more than the
// largest bucket does not open.
func TestOpenRefusesBadPayload(t *testing.T) {
	id, _ := age.GenerateHybridIdentity()
	rcpts, err := ParseRecipients([]string{id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Seal(sample(), rcpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(sealed, id); err != nil {
		t.Fatalf("the envelope as sealed: %v", err)
	}
	changed := bytes.Clone(sealed)
	changed[len(changed)-20] ^= 1
	if _, _, err := Open(changed, id); err == nil {
		t.Error("an envelope with a changed payload opened")
	}
	if _, _, err := Open(sealed[:len(sealed)-1], id); err == nil {
		t.Error("an envelope cut short opened")
	}
	var big bytes.Buffer
	w, err := age.Encrypt(&big, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(strings.Repeat(" ", MaxPlaintext+1)))
	w.Close()
	if _, _, err := Open(big.Bytes(), id); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a payload over the largest bucket: %v", err)
	}
}

// BenchmarkOpen is what an intake spends opening one report: the
// decapsulation, the payload and the JSON, and what it allocates.
func BenchmarkOpen(b *testing.B) {
	id, _ := age.GenerateHybridIdentity()
	rcpts, _ := ParseRecipients([]string{id.Recipient().String()})
	sealed, err := Seal(sample(), rcpts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Open(sealed, id); err != nil {
			b.Fatal(err)
		}
	}
}

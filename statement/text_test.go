package statement

import (
	"errors"
	"os"
	"testing"
)

// SignText signs only texts with a header of their own, never one that
// could read as a statement, and VerifyText tells its key from another.
func TestSignText(t *testing.T) {
	b, err := os.ReadFile("testdata/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseSigningKey(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{Header + "\nhotline x\n", "hotline x\n", ""} {
		if _, err := k.SignText([]byte(text)); err == nil {
			t.Errorf("SignText(%q) signed", text)
		}
	}
	text := []byte("reportline-reply v1\nhotline de-hotline\n")
	sig, err := k.SignText(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyText(k.VerificationKey(), text, sig); err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey()
	if err := VerifyText(other.VerificationKey(), text, sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("another key verified: %v", err)
	}
	if err := VerifyText(k.VerificationKey(), append(text, 'x'), sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("a changed text verified: %v", err)
	}
}

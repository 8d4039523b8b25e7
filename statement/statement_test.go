//go:build !(js && wasm)

package statement

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/fuzzseed"
)

func readVector(t testing.TB) (text []byte, vk string, sk *SigningKey) {
	t.Helper()
	text, err := os.ReadFile("testdata/de-hotline.statement")
	if err != nil {
		t.Fatal(err)
	}
	v, err := os.ReadFile("testdata/verification.key")
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.ReadFile("testdata/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	if sk, err = ParseSigningKey(s); err != nil {
		t.Fatal(err)
	}
	return text, strings.TrimSpace(string(v)), sk
}

// The test vector verifies with its key, and the signing key file gives
// that same verification key.
func TestVector(t *testing.T) {
	text, vk, sk := readVector(t)
	s, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(vk); err != nil {
		t.Fatal(err)
	}
	if sk.VerificationKey() != vk {
		t.Fatalf("signing key gives %s, want %s", sk.VerificationKey(), vk)
	}
	if s.Hotline != "de-hotline" || s.Serial != 7 || len(s.Recipients) != 1 || !strings.HasPrefix(s.Recipients[0], "age1pq1") {
		t.Fatalf("parsed %+v", s)
	}
	if s.String() != string(text) {
		t.Fatal("the parsed statement does not write back as the same text")
	}
}

func TestSignVerify(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey()
	now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	text, err := k.Sign(&Statement{Hotline: "nl-hotline", Serial: 2, ValidFrom: now, ValidUntil: now.Add(time.Hour), Recipients: []string{"age1abc", "age1def"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(k.VerificationKey()); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(other.VerificationKey()); !errors.Is(err, ErrSignature) {
		t.Fatalf("verified with another key: %v", err)
	}
	// Adding a recipient, or changing any signed byte, breaks the signature.
	for _, edit := range []func(string) string{
		func(t string) string {
			return strings.Replace(t, "recipient age1def\n", "recipient age1def\nrecipient age1evil\n", 1)
		},
		func(t string) string { return strings.Replace(t, "serial 2", "serial 3", 1) },
		func(t string) string { return strings.Replace(t, "nl-hotline", "de-hotline", 1) },
		func(t string) string { return strings.Replace(t, "2027-03-01T01", "2028-03-01T01", 1) },
	} {
		e, err := Parse([]byte(edit(string(text))))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Verify(k.VerificationKey()); !errors.Is(err, ErrSignature) {
			t.Fatalf("an edited statement verified: %v\n%s", err, edit(string(text)))
		}
	}
	// A signing key reads back from its file, and never prints its secret.
	k2, err := ParseSigningKey([]byte("# comment\n" + k.Secret() + "\n"))
	if err != nil || k2.VerificationKey() != k.VerificationKey() {
		t.Fatalf("key file did not read back: %v", err)
	}
	if out := fmt.Sprintf("%v %+v %s %#v", k, k, k, k); strings.Contains(out, k.Secret()[len(SigningKeyPrefix):]) {
		t.Fatalf("secret printed: %s", out)
	}
}

func TestCheck(t *testing.T) {
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Statement{Hotline: "de-hotline", Serial: 5, ValidFrom: from, ValidUntil: from.AddDate(0, 3, 0)}
	for _, tc := range []struct {
		name    string
		hotline string
		min     uint64
		now     time.Time
		skew    time.Duration
		want    error
	}{
		{"valid", "de-hotline", 5, from.Add(time.Hour), 0, nil},
		{"other hotline", "nl-hotline", 0, from.Add(time.Hour), 0, ErrHotline},
		{"expired", "de-hotline", 0, from.AddDate(0, 3, 0), 0, ErrExpired},
		{"expired within skew", "de-hotline", 0, from.AddDate(0, 3, 0), time.Hour, nil},
		{"not yet valid", "de-hotline", 0, from.Add(-time.Minute), 0, ErrNotYetValid},
		{"early within skew", "de-hotline", 0, from.Add(-time.Minute), time.Hour, nil},
		{"rollback", "de-hotline", 6, from.Add(time.Hour), 0, ErrRollback},
	} {
		err := s.Check(tc.hotline, tc.min, tc.now, tc.skew)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Every departure from the one text a statement has is refused with a
// message that says what is wrong.
func TestParseRefuses(t *testing.T) {
	text, _, _ := readVector(t)
	good := string(text)
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "newline"},
		{"no final newline", strings.TrimSuffix(good, "\n"), "newline"},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n"), "carriage returns"},
		{"other header", strings.Replace(good, "v1", "v2", 1), "first line"},
		{"no recipient", regexpDrop(good, "recipient "), "at least one recipient"},
		{"serial zero", strings.Replace(good, "serial 7", "serial 0", 1), "serial"},
		{"serial leading zero", strings.Replace(good, "serial 7", "serial 07", 1), "serial"},
		{"serial negative", strings.Replace(good, "serial 7", "serial -7", 1), "serial"},
		{"local time", strings.Replace(good, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", 1), "UTC time"},
		{"until before from", strings.Replace(good, "2036-01-01", "2025-01-01", 1), "not after"},
		{"bad hotline", strings.Replace(good, "hotline de-hotline", "hotline DE", 1), "not an id"},
		{"two spaces", strings.Replace(good, "hotline de", "hotline  de", 1), "one space"},
		{"upper-case signature", strings.Replace(good, "signature ", "signature A", 1)[:len(good)] + "\n", "128 lower-case"},
		{"swapped lines", strings.Replace(good, "hotline de-hotline\nserial 7", "serial 7\nhotline de-hotline", 1), `"hotline"`},
		{"a space in a value", strings.Replace(good, "recipient age1pq1", "recipient ssh-ed25519 AAAA", 1), "value without spaces"},
		{"not age key", strings.Replace(good, "recipient age1pq1", "recipient ssh1", 1), "not an age recipient"},
		{"short signature", good[:len(good)-10] + "\n", "128 lower-case"},
		{"too long", good + strings.Repeat("x", MaxSize), "longer than"},
	} {
		_, err := Parse([]byte(tc.text))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an ErrMalformed saying %q", tc.name, err, tc.want)
		}
	}
	many := strings.Repeat("recipient age1x\n", MaxRecipients+1)
	if _, err := Parse([]byte(strings.Replace(good, "signature ", many+"signature ", 1))); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("too many recipients: %v", err)
	}
}

// regexpDrop removes the lines that start with prefix.
func regexpDrop(text, prefix string) string {
	var out []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func TestKeysRefused(t *testing.T) {
	_, vk, _ := readVector(t)
	for _, k := range []string{"", vk[len(VerificationKeyPrefix):], "hlsk_" + vk[5:], vk + "A", vk[:len(vk)-1], vk + "=", strings.Replace(vk, "_", "-", 1)} {
		if _, err := ParseVerificationKey(k); !errors.Is(err, ErrKey) {
			t.Errorf("%q: got %v", k, err)
		}
	}
	for _, f := range []string{"", "# only a comment\n", "hlsk_x\n", vk + "\n", "hlsk_AAAA\nhlsk_AAAA\n"} {
		if _, err := ParseSigningKey([]byte(f)); !errors.Is(err, ErrKey) {
			t.Errorf("%q: got %v", f, err)
		}
	}
}

// FuzzParse: the parser never panics, and whatever it accepts writes back
// as exactly the text it read, so a statement has one text only.
func FuzzParse(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.statement") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if s.String() != string(b) {
			t.Fatalf("accepted a text that does not write back the same:\n%q\n%q", b, s.String())
		}
		if !bytes.HasPrefix(b, s.SignedText()) || !bytes.Equal(s.Body(), s.SignedText()) {
			t.Fatal("the signed text is not the statement's body")
		}
	})
}

// FuzzParseKeys: the key parsers never panic, and a key they accept
// writes back as the same string.
func FuzzParseKeys(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.key") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParseSigningKey(b); err == nil {
			if _, err := ParseVerificationKey(k.VerificationKey()); err != nil {
				t.Fatal(err)
			}
		}
		if raw, err := ParseVerificationKey(string(b)); err == nil && FormatVerificationKey(raw) != string(b) {
			t.Fatalf("%q writes back as %q", b, FormatVerificationKey(raw))
		}
	})
}

package followup

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"filippo.io/hpke"
	"github.com/reportline/reportline/statement"
)

type vector struct {
	Secret, Code, Mailbox, RequestKey, Check, ReplySeed, Recipient string
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/derive.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var vs []vector
	for _, m := range raw {
		vs = append(vs, vector{m["secret"], m["code"], m["mailbox"], m["request_key"], m["check"], m["reply_seed"], m["recipient"]})
	}
	if len(vs) < 4 {
		t.Fatalf("%d vectors, want at least 4", len(vs))
	}
	return vs
}

// The fixed vectors of docs/follow-up.md: each secret gives its code, and
// the code gives back the secret and every derived value. The HKDF values
// are recomputed with the standard library's HKDF, so the vectors do not
// only agree with this package's code.
func TestVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		raw, _ := hex.DecodeString(v.Secret)
		var s Secret
		copy(s[:], raw)
		if got := s.Code(); got != v.Code {
			t.Errorf("secret %s: code %s, want %s", v.Secret, got, v.Code)
		}
		back, err := ParseCode(v.Code)
		if err != nil || back != s {
			t.Fatalf("code %s reads back as %x, %v", v.Code, back[:], err)
		}
		k, err := Derive(s)
		if err != nil {
			t.Fatal(err)
		}
		std := func(label string, n int) []byte {
			b, err := hkdf.Key(sha256.New, raw, []byte(Salt), label, n)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if k.Mailbox != v.Mailbox || k.Mailbox != hex.EncodeToString(std("mailbox", 16)) {
			t.Errorf("secret %s: mailbox %s, want %s", v.Secret, k.Mailbox, v.Mailbox)
		}
		rk := base64.RawURLEncoding.EncodeToString(k.RequestKey)
		if rk != v.RequestKey || !bytes.Equal(k.RequestKey, std("request-key", 32)) {
			t.Errorf("secret %s: request key %s, want %s", v.Secret, rk, v.RequestKey)
		}
		sum := sha256.Sum256(std("request-key", 32))
		if k.Check != v.Check || k.Check != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("secret %s: check %s, want %s", v.Secret, k.Check, v.Check)
		}
		if hex.EncodeToString(std("reply-identity", 32)) != v.ReplySeed {
			t.Errorf("secret %s: reply seed differs from the vector", v.Secret)
		}
		if k.Recipient != v.Recipient || len(k.Recipient) != RecipientLen {
			t.Errorf("secret %s: recipient differs from the vector", v.Secret)
		}
	}
}

// A code survives being typed loosely: lower case, no dashes, spaces, and
// the letters people write for 0 and 1.
func TestParseCodeForgiving(t *testing.T) {
	s, err := NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	code := s.Code()
	if len(code) != CodeLen {
		t.Fatalf("code %q has %d characters, want %d", code, len(code), CodeLen)
	}
	loose := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	loose = strings.NewReplacer("0", "o", "1", "l").Replace(loose)
	got, err := ParseCode("  " + loose + "\n")
	if err != nil || got != s {
		t.Fatalf("ParseCode(%q) = %v, want the secret back", loose, err)
	}
}

// Every single wrong character, every swap of two neighbours and every
// pair of wrong characters is caught; none reads as another secret.
func TestParseCodeCatchesMistakes(t *testing.T) {
	code := strings.ReplaceAll(readVectors(t)[3].Code, "-", "")
	try := func(v []byte) {
		t.Helper()
		if _, err := ParseCode(string(v)); !errors.Is(err, ErrMistyped) {
			t.Fatalf("%s (from %s) was not caught: %v", v, code, err)
		}
	}
	for i := range codeSymbols {
		for _, c := range []byte(alphabet) {
			if c == code[i] {
				continue
			}
			v := []byte(code)
			v[i] = c
			try(v)
			for j := i + 1; j < codeSymbols; j++ {
				for _, d := range []byte(alphabet) {
					if d == code[j] {
						continue
					}
					w := bytes.Clone(v)
					w[j] = d
					try(w)
				}
			}
		}
		if i+1 < codeSymbols && code[i] != code[i+1] {
			v := []byte(code)
			v[i], v[i+1] = v[i+1], v[i]
			try(v)
		}
	}
}

func TestParseCodeRefuses(t *testing.T) {
	for _, c := range []string{"", "ABCD", strings.Repeat("A", 29), "0000-0000-0000-0000-0000-0000-000U", strings.Repeat("0", 200)} {
		if _, err := ParseCode(c); !errors.Is(err, ErrReceipt) {
			t.Errorf("ParseCode(%q) = %v, want ErrReceipt", c, err)
		}
	}
}

func testKey(t testing.TB) (*statement.SigningKey, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := statement.ParseSigningKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k, k.VerificationKey()
}

func testReply(k *Keys) *Reply {
	return &Reply{Hotline: "de-hotline", Report: "6f1c2a3e-8b4d-4c5e-9f60-7a1b2c3d4e5f", Mailbox: k.Mailbox,
		Kind: KindOutcome, Sent: time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC), Text: "Die Inhalte wurden entfernt. ‫שלום‬"}
}

// A reply goes the whole way: signed, sealed to the reporter's key,
// opened with the identity derived from the code alone, read and verified.
func TestReplyRoundTrip(t *testing.T) {
	key, vk := testKey(t)
	s, _ := NewSecret(rand.Reader)
	k, _ := Derive(s)
	r := testReply(k)
	plain, err := Sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := Seal(plain, k.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := ParseCode(s.Code())
	k2, _ := Derive(back)
	opened, err := Open(env, k2.Identity)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseReply(opened)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(vk); err != nil {
		t.Fatal(err)
	}
	if err := got.CheckFor("de-hotline", k2.Mailbox); err != nil {
		t.Fatal(err)
	}
	if got.Text != r.Text || got.Kind != r.Kind || !got.Sent.Equal(r.Sent) || got.Report != r.Report {
		t.Fatalf("read back %+v, want %+v", got, r)
	}
	other, _ := NewSecret(rand.Reader)
	ko, _ := Derive(other)
	if _, err := Open(env, ko.Identity); err == nil {
		t.Fatalf("another code opened the reply: %v", err)
	}
	if err := got.CheckFor("de-hotline", ko.Mailbox); !errors.Is(err, ErrMailbox) {
		t.Fatalf("a reply for one mailbox passed for another: %v", err)
	}
}

// A reply whose text was changed after signing, one with no real
// signature, and one signed by another key are all refused.
func TestReplyTamperedRefused(t *testing.T) {
	key, vk := testKey(t)
	plain, err := os.ReadFile("testdata/reply.txt")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ParseReply(plain); err != nil || r.Verify(vk) != nil {
		t.Fatalf("the vector reply does not verify: %v", err)
	}
	other, _ := statement.GenerateKey()
	r, _ := ParseReply(plain)
	r.Text = "Please send us the pictures."
	forged := r.Plaintext()
	zero := bytes.Clone(plain)
	copy(zero[bytes.Index(zero, []byte("signature "))+10:], base64.StdEncoding.EncodeToString(make([]byte, 64)))
	r3, _ := ParseReply(plain)
	r3.Kind = KindClosed
	otherPlain, err := Sign(r3, other)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]byte{"changed text": forged, "zero signature": zero, "other key": otherPlain} {
		got, err := ParseReply(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := got.Verify(vk); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", name, err)
		}
	}
	_ = key
}

func TestReplyRefuses(t *testing.T) {
	key, _ := testKey(t)
	s, _ := NewSecret(rand.Reader)
	k, _ := Derive(s)
	for name, edit := range map[string]func(*Reply){
		"kind":        func(r *Reply) { r.Kind = "threat" },
		"long text":   func(r *Reply) { r.Text = strings.Repeat("x", MaxText+1) },
		"control":     func(r *Reply) { r.Text = "a\x1bb" },
		"empty ask":   func(r *Reply) { r.Kind, r.Text = KindQuestion, " " },
		"mailbox":     func(r *Reply) { r.Mailbox = strings.ToUpper(r.Mailbox) },
		"report":      func(r *Reply) { r.Report = "R-1" },
		"hotline":     func(r *Reply) { r.Hotline = "DE" },
		"invalid utf": func(r *Reply) { r.Text = "\xff" },
	} {
		r := testReply(k)
		edit(r)
		if _, err := Sign(r, key); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Sign = %v, want ErrMalformed", name, err)
		}
	}
	plain, _ := os.ReadFile("testdata/reply.txt")
	for name, p := range map[string][]byte{
		"short":        plain[:ReplySize-1],
		"text after":   append(bytes.Clone(plain[:ReplySize-1]), 'x'),
		"extra space":  bytes.Replace(plain, []byte("kind question"), []byte("kind  question"), 1)[:ReplySize],
		"carriage ret": bytes.Replace(plain, []byte("\nkind"), []byte("\rkind"), 1),
	} {
		if _, err := ParseReply(p); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseReply = %v, want ErrMalformed", name, err)
		}
	}
}

// The vector post verifies, covers the vector envelope and nothing else,
// and a changed post does not verify.
func TestPost(t *testing.T) {
	_, vk := testKey(t)
	text, _ := os.ReadFile("testdata/post.txt")
	env, _ := os.ReadFile("testdata/reply.sealed")
	p, err := ParsePost(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(vk); err != nil {
		t.Fatal(err)
	}
	if !p.Covers(env) || p.Covers(env[1:]) {
		t.Fatal("Covers does not tell the post's envelope from another")
	}
	if len(env) != EnvelopeSize {
		t.Fatalf("the vector envelope has %d bytes, want %d", len(env), EnvelopeSize)
	}
	changed := bytes.Replace(text, []byte("hotline de-hotline"), []byte("hotline fr-hotline"), 1)
	q, err := ParsePost(changed)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Verify(vk); !errors.Is(err, ErrPost) {
		t.Fatalf("a changed post verified: %v", err)
	}
	for _, bad := range [][]byte{text[:len(text)-1], bytes.Replace(text, []byte("\n"), []byte("\r\n"), 1), append([]byte(" "), text...)} {
		if _, err := ParsePost(bad); !errors.Is(err, ErrPost) {
			t.Errorf("ParsePost(%q) = %v, want ErrPost", bad, err)
		}
	}
}

// Secrets never print.
func TestSecretsDoNotPrint(t *testing.T) {
	s, _ := NewSecret(rand.Reader)
	k, _ := Derive(s)
	var b strings.Builder
	fmtAll(&b, s, k)
	for _, leak := range []string{s.Code(), strings.ReplaceAll(s.Code(), "-", ""), hex.EncodeToString(s[:]), base64.RawURLEncoding.EncodeToString(k.RequestKey)} {
		if strings.Contains(b.String(), leak) {
			t.Fatalf("printed %q", b.String())
		}
	}
}

// The sealed vector opens, with HPKE's own API and the last vector's
// documented seed, to the vector reply.
func TestSealedVector(t *testing.T) {
	v := readVectors(t)[3]
	seed, _ := hex.DecodeString(v.ReplySeed)
	id, err := hpke.MLKEM768X25519().NewPrivateKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile("testdata/reply.sealed")
	want, _ := os.ReadFile("testdata/reply.txt")
	got, err := Open(env, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the sealed vector does not open to testdata/reply.txt")
	}
}

// TestMistakeGroup changes each character of a code in turn, to every
// other symbol, and wants the group that holds it; two changes in
// different groups are never blamed on a third group silently.
func TestMistakeGroup(t *testing.T) {
	code := readVectors(t)[0].Code
	if g := MistakeGroup(code); g != 0 {
		t.Fatalf("MistakeGroup of a good code = %d, want 0", g)
	}
	for i := range len(code) {
		if code[i] == '-' {
			continue
		}
		want := i/5 + 1
		for _, c := range alphabet {
			if byte(c) == code[i] {
				continue
			}
			bad := code[:i] + string(c) + code[i+1:]
			if _, err := ParseCode(bad); !errors.Is(err, ErrMistyped) {
				t.Fatalf("ParseCode(%s) = %v, want ErrMistyped", bad, err)
			}
			if g := MistakeGroup(bad); g != want {
				t.Fatalf("MistakeGroup(%s) = %d, want %d", bad, g, want)
			}
		}
	}
	if g := MistakeGroup(code[:10] + "U" + code[11:]); g != 3 {
		t.Errorf("a U in group 3: MistakeGroup = %d, want 3", g)
	}
	if g := MistakeGroup(code[:len(code)-1]); g != 0 {
		t.Errorf("a short code: MistakeGroup = %d, want 0", g)
	}
}

package followup

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// The vector fetch reads with its key, and acknowledges the vector reply
// by the SHA-256 its post names; a fetch that is not as specified is
// refused with what is wrong.
func TestParseFetch(t *testing.T) {
	body, _ := os.ReadFile("testdata/fetch.json")
	env, _ := os.ReadFile("testdata/reply.sealed")
	v := readVectors(t)[3]
	f, key, err := ParseFetch(body)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mailbox != v.Mailbox || base64.RawURLEncoding.EncodeToString(key) != v.RequestKey {
		t.Fatalf("read mailbox %s and key %x, want the last vector's", f.Mailbox, key)
	}
	post, _ := ParsePost(mustRead(t, "testdata/post.txt"))
	if len(f.Ack) != 1 || f.Ack[0] != EnvelopeID(env) || f.Ack[0] != post.EnvelopeSHA256 {
		t.Fatalf("ack %q, want the id of reply.sealed, which post.txt names", f.Ack)
	}
	ok := string(body)
	for name, c := range map[string]struct{ body, why string }{
		"not json":      {`x`, "JSON"},
		"upper mailbox": {strings.Replace(ok, v.Mailbox, strings.ToUpper(v.Mailbox), 1), "mailbox"},
		"short key":     {strings.Replace(ok, v.RequestKey, v.RequestKey[:40], 1), "key"},
		"padded key":    {strings.Replace(ok, v.RequestKey, v.RequestKey+"=", 1), "key"},
		"upper ack":     {strings.Replace(ok, f.Ack[0], strings.ToUpper(f.Ack[0]), 1), "ack"},
		"short ack":     {strings.Replace(ok, f.Ack[0], f.Ack[0][:62], 1), "ack"},
		"five acks":     {strings.Replace(ok, `"`+f.Ack[0]+`"`, strings.Repeat(`"`+f.Ack[0]+`",`, 4)+`"`+f.Ack[0]+`"`, 1), "at most 4"},
		"too long":      {ok[:len(ok)-2] + strings.Repeat(" ", MaxFetchBody) + "}", "bytes"},
	} {
		_, _, err := ParseFetch([]byte(c.body))
		if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v, want ErrFetch about %s", name, err, c.why)
		}
	}
	if f, _, err := ParseFetch([]byte(`{"mailbox":"` + v.Mailbox + `","key":"` + v.RequestKey + `"}`)); err != nil || len(f.Ack) != 0 {
		t.Fatalf("a fetch without ack: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docs/follow-up.md shows the vectors themselves: its reply, post and
// acknowledging fetch are the bytes of testdata, so that the text an
// independent implementation is written from agrees with the tests.
func TestDocExamples(t *testing.T) {
	doc := string(mustRead(t, "../docs/follow-up.md"))
	reply := mustRead(t, "testdata/reply.txt")
	for name, want := range map[string]string{
		"reply":        string(bytes.TrimRight(reply, " ")),
		"post":         string(mustRead(t, "testdata/post.txt")),
		"fetch's body": strings.TrimSpace(string(mustRead(t, "testdata/fetch.json"))),
	} {
		if name == "fetch's body" {
			// The document shows the three more ids an answer gives
			// as "…".
			want = strings.Replace(want, `"]}`, `","…","…","…"]}`, 1)
		}
		if !strings.Contains(doc, "\n"+want) {
			t.Errorf("docs/follow-up.md does not show testdata's %s:\n%s", name, want)
		}
	}
}

// FuzzParseFetch: the relay's parser of a fetch does not panic, and a
// fetch it accepts is read the same after writing it again.
func FuzzParseFetch(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "fetch.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fb, key, err := ParseFetch(b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(fb)
		fb2, key2, err := ParseFetch(again)
		if err != nil || fb2.Mailbox != fb.Mailbox || !bytes.Equal(key, key2) || strings.Join(fb2.Ack, ",") != strings.Join(fb.Ack, ",") {
			t.Fatalf("an accepted fetch does not read the same after writing it again: %v", err)
		}
	})
}

// FuzzRead: the reporter's side reads whatever a relay answers without
// panicking: a value that is not a sealed reply's size is an error, any
// other is filler or a reply, and every value is named for the
// acknowledgement by its SHA-256.
func FuzzRead(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "reply.sealed") {
		f.Add(b)
	}
	v := readVectors(f)[3]
	var secret Secret
	hex.Decode(secret[:], []byte(v.Secret))
	k, err := Derive(secret)
	if err != nil {
		f.Fatal(err)
	}
	_, vk := testKey(f)
	verify := edVerifier(f, vk)
	f.Fuzz(func(t *testing.T, b []byte) {
		a := &FetchAnswer{}
		for range Slots {
			a.Replies = append(a.Replies, base64.StdEncoding.EncodeToString(b))
		}
		th, err := Read(a, k, "de-hotline", verify)
		if err != nil {
			if len(b) == EnvelopeSize {
				t.Fatalf("a value of a sealed reply's size was refused: %v", err)
			}
			return
		}
		sum := sha256.Sum256(b)
		if len(th.Ack) != Slots || th.Ack[0] != hex.EncodeToString(sum[:]) {
			t.Fatalf("Ack = %q, want the value's SHA-256 %d times", th.Ack, Slots)
		}
		if len(th.Replies)+th.Refused > Slots {
			t.Fatalf("%d shown and %d refused of %d values", len(th.Replies), th.Refused, Slots)
		}
	})
}

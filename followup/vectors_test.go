package followup

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

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
		"fetch's body": strings.TrimSpace(string(mustRead(t, "../relay/mailbox/testdata/fetch.json"))),
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

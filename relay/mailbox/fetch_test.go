package mailbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/internal/fuzzseed"
)

// The vector fetch reads with its key, and acknowledges the vector reply
// by the SHA-256 its post names; a fetch that is not as specified is
// refused with what is wrong.
func TestParseFetch(t *testing.T) {
	body, _ := os.ReadFile("testdata/fetch.json")
	env, _ := os.ReadFile("../../followup/testdata/reply.sealed")
	postText, _ := os.ReadFile("../../followup/testdata/post.txt")
	// The last vector of followup/testdata/derive.json.
	v := struct{ Mailbox, RequestKey string }{"668fbb402f4cd7a222bc258222969b3f", "mQwH-OHmn2h8QtKD5UxPLrkvO92h6XZ1YbMYVzZL3sQ"}
	f, key, err := ParseFetch(body)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mailbox != v.Mailbox || base64.RawURLEncoding.EncodeToString(key) != v.RequestKey {
		t.Fatalf("read mailbox %s and key %x, want the last vector's", f.Mailbox, key)
	}
	post, err := followup.ParsePost(postText)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Ack) != 1 || f.Ack[0] != followup.EnvelopeID(env) || f.Ack[0] != post.EnvelopeSHA256 {
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

package followup

import (
	"fmt"
	"io"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

func fmtAll(w io.Writer, vs ...any) {
	for _, v := range vs {
		fmt.Fprintf(w, "%v %+v %s %#v %x\n", v, v, v, v, v)
	}
}

// FuzzParseCode: whatever a person types, the parser does not panic, and a
// code it accepts writes back as the same secret.
func FuzzParseCode(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.Code)
	}
	f.Add("e396 qesh scd5 yeps ymn7 rwas 8cdq")
	f.Fuzz(func(t *testing.T, code string) {
		g := MistakeGroup(code)
		if g < 0 || g > 7 {
			t.Fatalf("MistakeGroup(%q) = %d, not a group", code, g)
		}
		s, err := ParseCode(code)
		if err != nil {
			return
		}
		if g != 0 {
			t.Fatalf("MistakeGroup blames group %d of %q, which reads as a code", g, code)
		}
		if back, err := ParseCode(s.Code()); err != nil || back != s {
			t.Fatalf("%q read as a secret whose code does not read back", code)
		}
	})
}

// FuzzParseReply: the reporter's parser does not panic, and a reply it
// accepts writes back to the same bytes.
func FuzzParseReply(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "reply.txt") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReply(b)
		if err != nil {
			return
		}
		if got := r.Plaintext(); string(got) != string(b) {
			t.Fatalf("accepted a reply that does not write back the same")
		}
	})
}

// FuzzParsePost: the relay's parser does not panic, and a post it accepts
// writes back to the same text.
func FuzzParsePost(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "post.txt") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePost(b)
		if err != nil {
			return
		}
		if p.String() != string(b) {
			t.Fatalf("accepted a post that does not write back the same")
		}
	})
}

package mailbox

import (
	"bytes"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzDecode: a damaged record is refused, never a panic, and a record
// that decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.bin") {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatal("a decoded record does not encode back to its bytes")
		}
	})
}

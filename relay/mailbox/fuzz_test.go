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
		r, err := decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encode(r), b) {
			t.Fatal("a decoded record does not encode back to its bytes")
		}
	})
}

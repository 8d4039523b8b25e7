package report

import (
	"testing"
	"time"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzCheckEnvelope: the relay's check must never panic, and whatever it
// accepts must fit the relay's size limit.
func FuzzCheckEnvelope(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.age") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, kind := range []string{KindHybrid, KindX25519} {
			if CheckEnvelope(body, kind, 1) == nil && len(body) > MaxEnvelope {
				t.Fatalf("accepted %d bytes", len(body))
			}
		}
	})
}

// FuzzParse: the hotline's parser must never panic, and a report it parses
// must survive validation without panicking and re-encode.
func FuzzParse(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			return
		}
		_ = Validate(DefaultForm(), r, time.Now())
		if _, err := Marshal(r); err != nil {
			t.Fatalf("parsed report does not re-encode: %v", err)
		}
	})
}

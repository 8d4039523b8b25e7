package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func seedsFrom(f *testing.F, glob string) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", glob))
	if len(files) == 0 {
		f.Fatalf("no seeds match testdata/%s", glob)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzCheckEnvelope: the relay's check must never panic, and whatever it
// accepts must fit the relay's size limit.
func FuzzCheckEnvelope(f *testing.F) {
	seedsFrom(f, "*.age")
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
	seedsFrom(f, "*.json")
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

package intake

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePayload: the intake's delivery parser must never panic, and
// must never accept a delivery whose id differs from the signed webhook-id.
func FuzzParsePayload(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(files) == 0 {
		f.Fatal("no seeds in testdata/")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, rid)
	}
	f.Fuzz(func(t *testing.T, body []byte, webhookID string) {
		p, err := parsePayload(body, webhookID, "h1")
		if err != nil {
			return
		}
		if p.Data.ID != webhookID || p.Data.Hotline != "h1" || len(p.Data.Envelope) == 0 {
			t.Fatalf("accepted %+v for webhook-id %q", p.Data, webhookID)
		}
	})
}

package intake

import (
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzParsePayload: the intake's delivery parser must never panic, and
// must never accept a delivery whose id differs from the signed webhook-id.
func FuzzParsePayload(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
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

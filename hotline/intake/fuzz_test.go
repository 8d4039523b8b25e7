package intake

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzParsePayload: the intake's delivery parser must never panic, must
// never accept a delivery whose id differs from the signed webhook-id, and
// must never accept one with anything but spaces after its JSON object.
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
		if !json.Valid(body) {
			t.Fatalf("accepted a delivery that is not one JSON value: %q", body[max(0, len(body)-40):])
		}
	})
}

// FuzzCanonicalPayload checks the fast decoding of a canonical delivery
// against encoding/json: whatever it accepts, encoding/json decodes to
// the same payload.
func FuzzCanonicalPayload(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeCanonical(body)
		if !ok {
			return
		}
		var slow delivery.Payload
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&slow); err != nil {
			t.Fatalf("decoded %q, which encoding/json refuses: %v", body, err)
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(&slow)
		if !bytes.Equal(a, b) || !fast.Timestamp.Equal(slow.Timestamp) || !fast.Data.Received.Equal(slow.Data.Received) {
			t.Fatalf("decoded %q as %s, encoding/json as %s", body, a, b)
		}
	})
}

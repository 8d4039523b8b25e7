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
		slow := agreesWithJSON(t, body, fast)
		if !fast.Timestamp.Equal(slow.Timestamp) || !fast.Data.Received.Equal(slow.Data.Received) {
			t.Fatalf("decoded %q with times %v, %v, encoding/json with %v, %v", body,
				fast.Timestamp, fast.Data.Received, slow.Timestamp, slow.Data.Received)
		}
	})
}

// FuzzParseBatch: the intake's parser of a delivery, single or batch,
// must never panic, must take a body for one or the other and never both,
// must never accept a single delivery larger than one can be, and must
// accept a batch only of 1 to BatchSize reports for this hotline, each
// once, each with a canonical id and an envelope.
func FuzzParseBatch(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
		f.Add(b, "0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012")
	}
	f.Fuzz(func(t *testing.T, body []byte, webhookID string) {
		p, b, err := parseDelivery(body, webhookID, "h1")
		if err != nil {
			if p != nil || b != nil {
				t.Fatalf("refused (%v) and returned %v, %v", err, p, b)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a delivery that is not one JSON value: %q", body[max(0, len(body)-40):])
		}
		if p != nil {
			if b != nil || len(body) > maxDelivery || p.Data.ID != webhookID {
				t.Fatalf("accepted %+v (batch %v) from %d bytes for webhook-id %q", p.Data, b, len(body), webhookID)
			}
			if _, err := parseBatch(body, "h1"); err == nil {
				t.Fatalf("a single delivery is also a batch: %q", body)
			}
			return
		}
		ds := b.Data.Deliveries
		if b.Type != delivery.BatchEventType || len(ds) == 0 || len(ds) > BatchSize {
			t.Fatalf("accepted a batch of type %q with %d reports", b.Type, len(ds))
		}
		seen := map[string]bool{}
		for _, d := range ds {
			if seen[d.ID] || !canonicalUUID(d.ID) || d.Hotline != "h1" || len(d.Envelope) == 0 {
				t.Fatalf("accepted %+v in a batch", d)
			}
			seen[d.ID] = true
		}
		if _, err := parsePayload(body, webhookID, "h1"); err == nil {
			t.Fatalf("a batch is also a single delivery: %q", body)
		}
	})
}

// FuzzCanonicalBatch checks the fast decoding of a canonical batch
// against encoding/json: whatever it accepts, encoding/json decodes to
// the same batch.
func FuzzCanonicalBatch(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeCanonicalBatch(body)
		if !ok {
			return
		}
		slow := agreesWithJSON(t, body, fast)
		if !fast.Timestamp.Equal(slow.Timestamp) || len(fast.Data.Deliveries) != len(slow.Data.Deliveries) {
			t.Fatalf("decoded %q at %v with %d reports, encoding/json at %v with %d", body,
				fast.Timestamp, len(fast.Data.Deliveries), slow.Timestamp, len(slow.Data.Deliveries))
		}
		for i, d := range fast.Data.Deliveries {
			if !d.Received.Equal(slow.Data.Deliveries[i].Received) {
				t.Fatalf("report %d received %v, encoding/json %v", i, d.Received, slow.Data.Deliveries[i].Received)
			}
		}
	})
}

// agreesWithJSON fails t unless encoding/json, refusing unknown fields,
// decodes body too, to what encodes as fast does, and returns what it
// decoded.
func agreesWithJSON[T any](t *testing.T, body []byte, fast *T) *T {
	t.Helper()
	var slow T
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&slow); err != nil {
		t.Fatalf("decoded %q, which encoding/json refuses: %v", body, err)
	}
	a, _ := json.Marshal(fast)
	b, _ := json.Marshal(&slow)
	if !bytes.Equal(a, b) {
		t.Fatalf("decoded %q as %s, encoding/json as %s", body, a, b)
	}
	return &slow
}

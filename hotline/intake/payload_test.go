package intake

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
)

// What the relay sends (encoding/json's layout of delivery.Payload) takes
// the fast way, and comes out as it went in; anything else goes the way
// of encoding/json, with its result.
func TestDecodePayload(t *testing.T) {
	want := &delivery.Payload{Type: delivery.EventType, Timestamp: time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC),
		Data: delivery.Data{ID: rid, Hotline: "h1", Site: "s1", Received: time.Date(2026, 11, 26, 11, 59, 59, 0, time.UTC), Envelope: []byte("age-encryption.org/v1\n\x00\xff")}}
	body, _ := json.Marshal(want)
	got, ok := decodeCanonical(body)
	if !ok {
		t.Fatalf("the relay's layout %s did not take the fast way", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fast: %+v, want %+v", got, want)
	}
	for name, body := range map[string]string{
		"escaped":   `{"type":"report.received","timestamp":"2026-11-26T12:00:00Z","data":{"id":"` + rid + `","hotline":"h\u0031","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YWdl"}}`,
		"reordered": `{"timestamp":"2026-11-26T12:00:00Z","type":"report.received","data":{"id":"` + rid + `","hotline":"h1","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YWdl"}}`,
		"spaced":    `{ "type":"report.received","timestamp":"2026-11-26T12:00:00Z","data":{"id":"` + rid + `","hotline":"h1","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YWdl"}}`,
	} {
		if _, ok := decodeCanonical([]byte(body)); ok {
			t.Errorf("%s: took the fast way", name)
		}
		p, err := decodePayload([]byte(body))
		if err != nil || p.Data.Hotline != "h1" || string(p.Data.Envelope) != "age" {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
	}
	for name, body := range map[string]string{
		"unknown field": `{"type":"report.received","timestamp":"2026-11-26T12:00:00Z","data":{"id":"` + rid + `","hotline":"h1","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YWdl"},"extra":1}`,
		"bad base64":    `{"type":"report.received","timestamp":"2026-11-26T12:00:00Z","data":{"id":"` + rid + `","hotline":"h1","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YW!l"}}`,
		"bad time":      `{"type":"report.received","timestamp":"26/11/2026","data":{"id":"` + rid + `","hotline":"h1","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YWdl"}}`,
		// base64 skips line ends; a JSON string cannot hold them.
		"line end in base64": "{\"type\":\"report.received\",\"timestamp\":\"2026-11-26T12:00:00Z\",\"data\":{\"id\":\"" + rid + "\",\"hotline\":\"h1\",\"site\":\"s1\",\"received\":\"2026-11-26T11:59:59Z\",\"envelope\":\"YW\ndl\"}}",
		"return in base64":   "{\"type\":\"report.received\",\"timestamp\":\"2026-11-26T12:00:00Z\",\"data\":{\"id\":\"" + rid + "\",\"hotline\":\"h1\",\"site\":\"s1\",\"received\":\"2026-11-26T11:59:59Z\",\"envelope\":\"YW\rdl\"}}",
		"escape in base64":   `{"type":"report.received","timestamp":"2026-11-26T12:00:00Z","data":{"id":"` + rid + `","hotline":"h1","site":"s1","received":"2026-11-26T11:59:59Z","envelope":"YW\/dl"}}`,
	} {
		if _, ok := decodeCanonical([]byte(body)); ok {
			t.Errorf("%s: took the fast way", name)
		}
		if p, err := decodePayload([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, p)
		}
	}
}

// A batch in the relay's layout takes the fast way and comes out as it
// went in; the same batch laid out otherwise goes the way of
// encoding/json, with the same result.
func TestDecodeBatch(t *testing.T) {
	d := func(id string) delivery.Data {
		return delivery.Data{ID: id, Hotline: "h1", Site: "s1", Received: time.Date(2026, 11, 26, 11, 59, 59, 0, time.UTC), Envelope: []byte("age-encryption.org/v1\n\x00\xff")}
	}
	want := &delivery.Batch{Type: delivery.BatchEventType, Timestamp: time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC),
		Data: delivery.BatchData{Deliveries: []delivery.Data{d(rid), d(rid2)}}}
	body, _ := json.Marshal(want)
	got, ok := decodeCanonicalBatch(body)
	if !ok {
		t.Fatalf("the relay's layout %s did not take the fast way", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fast: %+v, want %+v", got, want)
	}
	if !isBatch(body) {
		t.Error("the relay's layout is not taken for a batch")
	}
	spaced, _ := json.MarshalIndent(want, "", " ")
	if _, ok := decodeCanonicalBatch(spaced); ok {
		t.Error("an indented batch took the fast way")
	}
	if got, err := decodeBatch(spaced); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("indented: %+v, %v; want %+v", got, err, want)
	}
	if !isBatch(spaced) {
		t.Error("an indented batch is not taken for a batch")
	}
	for name, body := range map[string][]byte{
		"a single delivery":    []byte(`{"type":"report.received","timestamp":"2026-11-26T12:00:00Z","data":{}}`),
		"not JSON":             []byte(`hello`),
		"the type in a report": []byte(`{"data":{"deliveries":[{"type":"report.batch"}]}}`),
	} {
		if isBatch(body) {
			t.Errorf("%s is taken for a batch", name)
		}
	}
}

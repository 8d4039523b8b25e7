package intake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/reportline/reportline/delivery"
)

// decodePayload decodes a delivery's JSON, refusing unknown fields.
func decodePayload(body []byte) (*delivery.Payload, error) {
	if p, ok := decodeCanonical(body); ok {
		return p, nil
	}
	var p delivery.Payload
	if err := decodeStrict(body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// decodeBatch decodes a batch's JSON, refusing unknown fields.
func decodeBatch(body []byte) (*delivery.Batch, error) {
	if b, ok := decodeCanonicalBatch(body); ok {
		return b, nil
	}
	var b delivery.Batch
	if err := decodeStrict(body, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// decodeStrict decodes one JSON object into v with encoding/json,
// refusing unknown fields and anything after the object: what follows
// would be signed but unread, and the relay sends nothing there.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("failed to parse delivery: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("failed to parse delivery: data after the JSON object")
	}
	return nil
}

// isBatch reports whether a delivery's type is [delivery.BatchEventType]:
// at a glance for the relay's layout, which starts with the type, else
// as encoding/json reads the type. What it says is only which decoding
// to try: that one checks the type again.
func isBatch(body []byte) bool {
	const start = `{"type":"`
	if rest, ok := bytes.CutPrefix(body, []byte(start)); ok {
		switch {
		case bytes.HasPrefix(rest, []byte(delivery.EventType+`",`)):
			return false
		case bytes.HasPrefix(rest, []byte(delivery.BatchEventType+`",`)):
			return true
		}
	}
	var head struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(body, &head) == nil && head.Type == delivery.BatchEventType
}

// decodeCanonical decodes a delivery laid out exactly as the relay's
// encoding/json writes it: the fields in their order, no spaces, strings
// of printable ASCII without escapes. encoding/json goes over the
// envelope's base64 twice, a character at a time, which cost a tenth of
// the intake's CPU per report; here it is decoded once. Anything else
// (another order, spaces, escapes, other fields, a value that does not
// parse) reports false and is left to encoding/json, so that both give
// the same result for what this accepts (FuzzCanonicalPayload).
func decodeCanonical(b []byte) (*delivery.Payload, bool) {
	var p delivery.Payload
	r := canonReader{b: b, ok: true}
	r.lit(`{"type":`)
	p.Type = string(r.str())
	r.lit(`,"timestamp":`)
	p.Timestamp = r.time()
	r.lit(`,"data":`)
	p.Data = r.data()
	r.lit(`}`)
	if !r.end() {
		return nil, false
	}
	return &p, true
}

// decodeCanonicalBatch is decodeCanonical for a batch of at least one
// report (FuzzCanonicalBatch).
func decodeCanonicalBatch(b []byte) (*delivery.Batch, bool) {
	var p delivery.Batch
	r := canonReader{b: b, ok: true}
	r.lit(`{"type":`)
	p.Type = string(r.str())
	r.lit(`,"timestamp":`)
	p.Timestamp = r.time()
	r.lit(`,"data":{"deliveries":[`)
	for r.ok {
		p.Data.Deliveries = append(p.Data.Deliveries, r.data())
		if !r.ok || len(r.b) == 0 || r.b[0] != ',' {
			break
		}
		r.b = r.b[1:]
	}
	r.lit(`]}}`)
	if !r.end() {
		return nil, false
	}
	return &p, true
}

// canonReader reads a canonical delivery; ok turns false at the first
// thing it does not expect, and stays so.
type canonReader struct {
	b  []byte
	ok bool
}

// data reads a report's data, its envelope decoded from base64.
func (r *canonReader) data() delivery.Data {
	var d delivery.Data
	r.lit(`{"id":`)
	d.ID = string(r.str())
	r.lit(`,"hotline":`)
	d.Hotline = string(r.str())
	r.lit(`,"site":`)
	d.Site = string(r.str())
	r.lit(`,"received":`)
	d.Received = r.time()
	r.lit(`,"envelope":`)
	d.Envelope = r.base64()
	r.lit(`}`)
	return d
}

// base64 reads a string of standard base64 and returns it decoded. It
// takes what str would (base64's alphabet is printable ASCII) without
// looking at each character twice: the decoder refuses every other
// character but line ends, which it would skip and a JSON string cannot
// hold.
func (r *canonReader) base64() []byte {
	if !r.ok || len(r.b) == 0 || r.b[0] != '"' {
		r.ok = false
		return nil
	}
	end := bytes.IndexByte(r.b[1:], '"')
	if end < 0 {
		r.ok = false
		return nil
	}
	s := r.b[1 : 1+end]
	if bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		r.ok = false
		return nil
	}
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(dec, s)
	if r.ok = err == nil; !r.ok {
		return nil
	}
	r.b = r.b[2+end:]
	return dec[:n]
}

// end reports whether all was read as expected, with nothing but
// spaces after it.
func (r *canonReader) end() bool {
	return r.ok && len(bytes.Trim(r.b, " \t\r\n")) == 0
}

// lit reads s.
func (r *canonReader) lit(s string) {
	if r.ok = r.ok && bytes.HasPrefix(r.b, []byte(s)); r.ok {
		r.b = r.b[len(s):]
	}
}

// str reads a string of printable ASCII other than '"' and '\', and
// returns what is between the quotes.
func (r *canonReader) str() []byte {
	if !r.ok || len(r.b) == 0 || r.b[0] != '"' {
		r.ok = false
		return nil
	}
	for i := 1; i < len(r.b); i++ {
		switch c := r.b[i]; {
		case c == '"':
			s := r.b[1:i]
			r.b = r.b[i+1:]
			return s
		case c < 0x20 || c > 0x7e || c == '\\':
			r.ok = false
			return nil
		}
	}
	r.ok = false
	return nil
}

// time reads a time as encoding/json does: time.Time's UnmarshalJSON on
// the quoted string.
func (r *canonReader) time() time.Time {
	b := r.b
	s := r.str()
	var t time.Time
	if r.ok {
		q := b[:len(s)+2]
		r.ok = t.UnmarshalJSON(q) == nil
	}
	return t
}

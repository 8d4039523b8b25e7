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
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("failed to parse delivery: %w", err)
	}
	// One JSON object and nothing after it: what follows would be
	// signed but unread, and the relay sends nothing there.
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("failed to parse delivery: data after the JSON object")
	}
	return &p, nil
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
	var ok bool
	r := canonReader{b: b, ok: true}
	r.lit(`{"type":`)
	p.Type = string(r.str())
	r.lit(`,"timestamp":`)
	p.Timestamp = r.time()
	r.lit(`,"data":{"id":`)
	p.Data.ID = string(r.str())
	r.lit(`,"hotline":`)
	p.Data.Hotline = string(r.str())
	r.lit(`,"site":`)
	p.Data.Site = string(r.str())
	r.lit(`,"received":`)
	p.Data.Received = r.time()
	r.lit(`,"envelope":`)
	env := r.str()
	r.lit(`}}`)
	if !r.ok || len(bytes.Trim(r.b, " \t\r\n")) != 0 {
		return nil, false
	}
	p.Data.Envelope = make([]byte, base64.StdEncoding.DecodedLen(len(env)))
	n, err := base64.StdEncoding.Decode(p.Data.Envelope, env)
	if p.Data.Envelope, ok = p.Data.Envelope[:n], err == nil; !ok {
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

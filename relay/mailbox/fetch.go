package mailbox

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/reportline/reportline/followup"
)

// MaxFetchBody bounds a fetch's body: the mailbox, the key and an ack of
// followup.Slots ids, with room to spare.
const MaxFetchBody = 1 << 10

// ErrFetch: a fetch's body is not as docs/follow-up.md writes one.
var ErrFetch = errors.New("malformed mailbox fetch")

// ParseFetch reads the body of POST /v1/sites/{site}/mailbox and returns
// it with the request key decoded. It is the relay's: package followup,
// which the browser module links, reads no JSON.
func ParseFetch(body []byte) (*followup.FetchBody, []byte, error) {
	if len(body) > MaxFetchBody {
		return nil, nil, fmt.Errorf("%w: more than %d bytes", ErrFetch, MaxFetchBody)
	}
	var f followup.FetchBody
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, nil, fmt.Errorf("%w: not a JSON object with the members mailbox, key and ack", ErrFetch)
	}
	if !followup.ValidMailbox(f.Mailbox) {
		return nil, nil, fmt.Errorf("%w: mailbox must be 32 lower-case hex digits", ErrFetch)
	}
	key, err := base64.RawURLEncoding.Strict().DecodeString(f.Key)
	if err != nil || len(key) != 32 {
		return nil, nil, fmt.Errorf("%w: key must be 32 bytes in unpadded base64url", ErrFetch)
	}
	if len(f.Ack) > followup.Slots {
		return nil, nil, fmt.Errorf("%w: ack names %d replies, at most %d", ErrFetch, len(f.Ack), followup.Slots)
	}
	for _, id := range f.Ack {
		if !followup.ValidEnvelopeID(id) {
			return nil, nil, fmt.Errorf("%w: each ack must be a SHA-256 in 64 lower-case hex digits", ErrFetch)
		}
	}
	return &f, key, nil
}

package mailbox

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/reportline/reportline/followup"
)

// Record is what a store keeps for one mailbox, in the layout the package
// comment gives; every store of mailboxes (this package's file, the
// JetStream buckets of package relay/natsstore) keeps it so and applies
// the rules below to it, so that they behave alike.
type Record struct {
	// Check is the SHA-256 of the mailbox's request key.
	Check [32]byte
	// Slots are the replies, oldest first.
	Slots []Slot
}

// Slot is one sealed reply and when it was stored.
type Slot struct {
	// Stored is when, in Unix seconds.
	Stored int64
	// Envelope is the sealed reply, followup.EnvelopeSize bytes.
	Envelope []byte
}

// ParseCheck decodes a post's check (32 bytes, unpadded base64url).
func ParseCheck(check string) ([32]byte, error) {
	var c [32]byte
	b, err := base64.RawURLEncoding.Strict().DecodeString(check)
	if err != nil || len(b) != 32 {
		return c, fmt.Errorf("failed to store the reply: malformed check")
	}
	copy(c[:], b)
	return c, nil
}

// Lookup decodes the stored value v (nil for no record) if requestKey is
// its mailbox's key; otherwise it returns an empty record and false, after
// the same hash and constant-time comparison.
func Lookup(v, requestKey []byte) (Record, bool, error) {
	check := sha256.Sum256(requestKey)
	var stored [32]byte
	if len(v) > 33 {
		copy(stored[:], v[1:33])
	}
	if subtle.ConstantTimeCompare(stored[:], check[:]) != 1 || v == nil {
		return Record{}, false, nil
	}
	r, err := Decode(v)
	return r, err == nil, err
}

// Add appends a sealed reply stored at now to r, the stored record (nil
// for none), after dropping replies older than retention. It refuses a
// reply r already holds (ErrReplayed), a check other than r's (ErrCheck)
// and a reply beyond followup.Slots (ErrFull).
func Add(r *Record, check [32]byte, envelope []byte, now time.Time, retention time.Duration) (Record, error) {
	if len(envelope) != followup.EnvelopeSize {
		return Record{}, fmt.Errorf("failed to store the reply: %d bytes, want %d", len(envelope), followup.EnvelopeSize)
	}
	out := Record{Check: check}
	if r != nil {
		if subtle.ConstantTimeCompare(r.Check[:], check[:]) != 1 {
			return Record{}, ErrCheck
		}
		for _, sl := range r.Slots {
			if bytes.Equal(sl.Envelope, envelope) {
				return Record{}, ErrReplayed
			}
		}
		out.Slots = Live(r.Slots, now, retention)
	}
	if len(out.Slots) >= followup.Slots {
		return Record{}, ErrFull
	}
	out.Slots = append(out.Slots, Slot{now.Unix(), envelope})
	return out, nil
}

// Live returns the slots stored less than retention before now.
func Live(slots []Slot, now time.Time, retention time.Duration) []Slot {
	var out []Slot
	for _, sl := range slots {
		if now.Sub(time.Unix(sl.Stored, 0)) < retention {
			out = append(out, sl)
		}
	}
	return out
}

// Without returns the live slots whose envelope's followup.EnvelopeID is
// not in ids, and whether that is fewer than slots: whether the record
// must be written.
func Without(slots []Slot, ids []string, now time.Time, retention time.Duration) ([]Slot, bool) {
	var keep []Slot
	for _, sl := range Live(slots, now, retention) {
		id := followup.EnvelopeID(sl.Envelope)
		acked := false
		for _, a := range ids {
			acked = acked || a == id
		}
		if !acked {
			keep = append(keep, sl)
		}
	}
	return keep, len(keep) < len(slots)
}

// Count returns how many replies the stored value v holds.
func Count(v []byte) int {
	if len(v) > 33 {
		return int(v[33])
	}
	return 0
}

// Encode writes r in the stored layout.
func (r Record) Encode() []byte {
	out := make([]byte, 0, 34+len(r.Slots)*(8+followup.EnvelopeSize))
	out = append(out, 1)
	out = append(out, r.Check[:]...)
	out = append(out, byte(len(r.Slots)))
	for _, sl := range r.Slots {
		out = binary.BigEndian.AppendUint64(out, uint64(sl.Stored))
		out = append(out, sl.Envelope...)
	}
	return out
}

// Decode reads a stored record, or returns ErrCorrupt.
func Decode(v []byte) (Record, error) {
	var r Record
	if len(v) < 34 || v[0] != 1 {
		return r, ErrCorrupt
	}
	copy(r.Check[:], v[1:33])
	n := int(v[33])
	rest := v[34:]
	if n < 1 || n > followup.Slots || len(rest) != n*(8+followup.EnvelopeSize) {
		return r, ErrCorrupt
	}
	for i := range n {
		b := rest[i*(8+followup.EnvelopeSize):]
		r.Slots = append(r.Slots, Slot{int64(binary.BigEndian.Uint64(b)), bytes.Clone(b[8 : 8+followup.EnvelopeSize])})
	}
	return r, nil
}

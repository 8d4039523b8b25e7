// Package mailbox is the relay's durable store of the hotlines' sealed
// replies to reporters, as docs/follow-up.md specifies: ciphertext only,
// under the hotline and the mailbox id, each reply kept until the holder
// of the receipt acknowledges having read it or the retention ends.
//
// # Storage layout
//
// One bbolt file, every write in one fsynced transaction, with buckets:
//
//   - "boxes": hotline ‖ 0x00 ‖ mailbox id → record;
//   - "seen": envelope SHA-256 → 8-byte big-endian Unix seconds until
//     which a post of that envelope is refused as a replay.
//
// A record is:
//
//	version  byte = 1
//	check    32 bytes (SHA-256 of the request key)
//	count    byte (1 to followup.Slots)
//	count ×  8-byte big-endian Unix seconds stored ‖ followup.EnvelopeSize bytes
//
// A mailbox with no replies has no record: after its replies were
// acknowledged, and for a code that was never used, the store holds the
// same thing, nothing.
package mailbox

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/reportline/reportline/followup"
)

var (
	bucketBoxes = []byte("boxes")
	bucketSeen  = []byte("seen")
)

// Errors of a post.
var (
	// ErrFull: the mailbox already holds followup.Slots replies.
	ErrFull = errors.New("mailbox full")
	// ErrCheck: the post's check differs from the one the mailbox has.
	ErrCheck = errors.New("mailbox check differs")
	// ErrReplayed: the same sealed reply was posted before.
	ErrReplayed = errors.New("reply already posted")
	// ErrCorrupt: a record does not decode.
	ErrCorrupt = errors.New("mailbox record corrupt")
)

// Store is the mailbox file.
type Store struct {
	db        *bolt.DB
	retention time.Duration
}

// Open opens (or makes) the mailbox file at path. Replies older than
// retention are never given out and are removed by Sweep.
func Open(path string, retention time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("failed to open the mailbox store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBoxes, bucketSeen} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("failed to open the mailbox store %s: %w", path, err)
	}
	return &Store{db: db, retention: retention}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Retention is how long a reply is kept unread.
func (s *Store) Retention() time.Duration { return s.retention }

type slot struct {
	stored   int64
	envelope []byte
}

type record struct {
	check [32]byte
	slots []slot
}

func boxKey(hotline, mailbox string) []byte { return []byte(hotline + "\x00" + mailbox) }

// Put stores a sealed reply in a mailbox, after its post was verified.
// replayUntil is when a second post of the same envelope stops being
// refused (the post's time plus the window it is accepted in).
func (s *Store) Put(hotline, mailbox, check string, envelope []byte, now, replayUntil time.Time) error {
	if len(envelope) != followup.EnvelopeSize {
		return fmt.Errorf("failed to store the reply: %d bytes, want %d", len(envelope), followup.EnvelopeSize)
	}
	c, err := base64.RawURLEncoding.Strict().DecodeString(check)
	if err != nil || len(c) != 32 {
		return fmt.Errorf("failed to store the reply: malformed check")
	}
	sum := sha256.Sum256(envelope)
	return s.db.Update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(bucketSeen)
		if seen.Get(sum[:]) != nil {
			return ErrReplayed
		}
		boxes := tx.Bucket(bucketBoxes)
		key := boxKey(hotline, mailbox)
		var r record
		if v := boxes.Get(key); v != nil {
			var err error
			if r, err = decode(v); err != nil {
				return err
			}
			if subtle.ConstantTimeCompare(r.check[:], c) != 1 {
				return ErrCheck
			}
		} else {
			copy(r.check[:], c)
		}
		r.slots = s.live(r.slots, now)
		if len(r.slots) >= followup.Slots {
			return ErrFull
		}
		r.slots = append(r.slots, slot{now.Unix(), envelope})
		if err := boxes.Put(key, encode(r)); err != nil {
			return err
		}
		return seen.Put(sum[:], binary.BigEndian.AppendUint64(nil, uint64(replayUntil.Unix())))
	})
}

// Peek returns the replies in a mailbox, oldest first, if requestKey is
// the mailbox's; it removes nothing (Ack does, once the reporter's side
// has shown them). For a wrong key, an unknown mailbox and an empty one
// it returns nothing, doing the same work: a hash, one lookup, one
// comparison, in a read-only transaction.
func (s *Store) Peek(hotline, mailbox string, requestKey []byte, now time.Time) ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		r, _, err := s.lookup(tx, hotline, mailbox, requestKey)
		for _, sl := range s.live(r.slots, now) {
			out = append(out, sl.envelope)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read a mailbox: %w", err)
	}
	return out, nil
}

// lookup reads a mailbox's record if requestKey is its key; otherwise it
// returns an empty record and false, after the same hash, lookup and
// comparison.
func (s *Store) lookup(tx *bolt.Tx, hotline, mailbox string, requestKey []byte) (record, bool, error) {
	check := sha256.Sum256(requestKey)
	v := tx.Bucket(bucketBoxes).Get(boxKey(hotline, mailbox))
	var stored [32]byte
	if len(v) > 33 {
		copy(stored[:], v[1:33])
	}
	if subtle.ConstantTimeCompare(stored[:], check[:]) != 1 || v == nil {
		return record{}, false, nil
	}
	r, err := decode(v)
	return r, err == nil, err
}

// Ack removes the replies of a mailbox whose followup.EnvelopeID is in
// ids, if requestKey is the mailbox's, and with them those past the
// retention; a mailbox left empty leaves no record. It writes only when
// the key is right and an id names a reply the mailbox holds, which only
// the holder of the code can know: for a wrong key, an unknown mailbox,
// or ids of nothing held it does Peek's work, and returns nil as it does
// when it removed something.
func (s *Store) Ack(hotline, mailbox string, requestKey []byte, ids []string, now time.Time) error {
	drop := false
	err := s.db.View(func(tx *bolt.Tx) error {
		r, ok, err := s.lookup(tx, hotline, mailbox, requestKey)
		if ok {
			_, drop = s.without(r.slots, ids, now)
		}
		return err
	})
	if err != nil || !drop {
		return wrapAck(err)
	}
	return wrapAck(s.db.Update(func(tx *bolt.Tx) error {
		// Read again: a post may have come since.
		r, ok, err := s.lookup(tx, hotline, mailbox, requestKey)
		if !ok {
			return err
		}
		boxes, key := tx.Bucket(bucketBoxes), boxKey(hotline, mailbox)
		if r.slots, _ = s.without(r.slots, ids, now); len(r.slots) == 0 {
			return boxes.Delete(key)
		}
		return boxes.Put(key, encode(r))
	}))
}

func wrapAck(err error) error {
	if err != nil {
		return fmt.Errorf("failed to remove read replies: %w", err)
	}
	return nil
}

// without returns the live slots whose envelope is not named in ids, and
// whether that is fewer than slots.
func (s *Store) without(slots []slot, ids []string, now time.Time) ([]slot, bool) {
	var keep []slot
	for _, sl := range s.live(slots, now) {
		id := followup.EnvelopeID(sl.envelope)
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

// Sweep removes replies older than the retention, and replay marks that
// have run out. It returns how many replies it removed.
func (s *Store) Sweep(now time.Time) (int, error) {
	removed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		boxes := tx.Bucket(bucketBoxes)
		var dead [][]byte
		type change struct{ k, v []byte }
		var changed []change
		err := boxes.ForEach(func(k, v []byte) error {
			r, err := decode(v)
			if err != nil {
				return fmt.Errorf("%w: %q", err, k)
			}
			live := s.live(r.slots, now)
			removed += len(r.slots) - len(live)
			switch {
			case len(live) == 0:
				dead = append(dead, bytes.Clone(k))
			case len(live) < len(r.slots):
				r.slots = live
				changed = append(changed, change{bytes.Clone(k), encode(r)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := boxes.Delete(k); err != nil {
				return err
			}
		}
		for _, c := range changed {
			if err := boxes.Put(c.k, c.v); err != nil {
				return err
			}
		}
		seen := tx.Bucket(bucketSeen)
		var gone [][]byte
		seen.ForEach(func(k, v []byte) error {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < now.Unix() {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range gone {
			if err := seen.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("failed to sweep the mailbox store: %w", err)
	}
	return removed, nil
}

// Count returns how many replies wait in the store, for the metrics.
func (s *Store) Count() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBoxes).ForEach(func(k, v []byte) error {
			if len(v) > 33 {
				n += int(v[33])
			}
			return nil
		})
	})
	return n, err
}

func (s *Store) live(slots []slot, now time.Time) []slot {
	var out []slot
	for _, sl := range slots {
		if now.Sub(time.Unix(sl.stored, 0)) < s.retention {
			out = append(out, sl)
		}
	}
	return out
}

func encode(r record) []byte {
	out := make([]byte, 0, 34+len(r.slots)*(8+followup.EnvelopeSize))
	out = append(out, 1)
	out = append(out, r.check[:]...)
	out = append(out, byte(len(r.slots)))
	for _, sl := range r.slots {
		out = binary.BigEndian.AppendUint64(out, uint64(sl.stored))
		out = append(out, sl.envelope...)
	}
	return out
}

func decode(v []byte) (record, error) {
	var r record
	if len(v) < 34 || v[0] != 1 {
		return r, ErrCorrupt
	}
	copy(r.check[:], v[1:33])
	n := int(v[33])
	rest := v[34:]
	if n < 1 || n > followup.Slots || len(rest) != n*(8+followup.EnvelopeSize) {
		return r, ErrCorrupt
	}
	for i := range n {
		b := rest[i*(8+followup.EnvelopeSize):]
		r.slots = append(r.slots, slot{int64(binary.BigEndian.Uint64(b)), bytes.Clone(b[8 : 8+followup.EnvelopeSize])})
	}
	return r, nil
}

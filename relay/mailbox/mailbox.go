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
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
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
	// ErrLocked: another process has the mailbox file open.
	ErrLocked = errors.New("mailbox file is locked by another process")
	// ErrDamaged: the file is not a mailbox store bbolt can read (a disk
	// damaged it, or another file is in its place). It needs an operator.
	ErrDamaged = errors.New("mailbox file is damaged or not a mailbox store")
)

// Store is the mailbox file.
type Store struct {
	db        *bolt.DB
	retention time.Duration
}

// Open opens (or makes) the mailbox file at path. Replies older than
// retention are never given out and are removed by Sweep.
func Open(path string, retention time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("failed to open the mailbox store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("failed to open the mailbox store %s: %w", path, ErrLocked)
	}
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return nil, fmt.Errorf("failed to open the mailbox store %s: %w (%w)", path, ErrDamaged, err)
	}
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

func boxKey(hotline, mailbox string) []byte { return []byte(hotline + "\x00" + mailbox) }

// Put stores a sealed reply in a mailbox, after its post was verified.
// replayUntil is when a second post of the same envelope stops being
// refused (the post's time plus the window it is accepted in).
func (s *Store) Put(hotline, mailbox, check string, envelope []byte, now, replayUntil time.Time) error {
	c, err := ParseCheck(check)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(envelope)
	return s.db.Update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(bucketSeen)
		if seen.Get(sum[:]) != nil {
			return ErrReplayed
		}
		boxes := tx.Bucket(bucketBoxes)
		key := boxKey(hotline, mailbox)
		var old *Record
		if v := boxes.Get(key); v != nil {
			r, err := Decode(v)
			if err != nil {
				return err
			}
			old = &r
		}
		r, err := Add(old, c, envelope, now, s.retention)
		if err != nil {
			return err
		}
		if err := boxes.Put(key, r.Encode()); err != nil {
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
		r, _, err := Lookup(tx.Bucket(bucketBoxes).Get(boxKey(hotline, mailbox)), requestKey)
		for _, sl := range Live(r.Slots, now, s.retention) {
			out = append(out, sl.Envelope)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read a mailbox: %w", err)
	}
	return out, nil
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
		r, ok, err := Lookup(tx.Bucket(bucketBoxes).Get(boxKey(hotline, mailbox)), requestKey)
		if ok {
			_, drop = Without(r.Slots, ids, now, s.retention)
		}
		return err
	})
	if err != nil || !drop {
		return wrapAck(err)
	}
	return wrapAck(s.db.Update(func(tx *bolt.Tx) error {
		// Read again: a post may have come since.
		boxes, key := tx.Bucket(bucketBoxes), boxKey(hotline, mailbox)
		r, ok, err := Lookup(boxes.Get(key), requestKey)
		if !ok {
			return err
		}
		if r.Slots, _ = Without(r.Slots, ids, now, s.retention); len(r.Slots) == 0 {
			return boxes.Delete(key)
		}
		return boxes.Put(key, r.Encode())
	}))
}

func wrapAck(err error) error {
	if err != nil {
		return fmt.Errorf("failed to remove read replies: %w", err)
	}
	return nil
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
			r, err := Decode(v)
			if err != nil {
				return fmt.Errorf("%w: %q", err, k)
			}
			live := Live(r.Slots, now, s.retention)
			removed += len(r.Slots) - len(live)
			switch {
			case len(live) == 0:
				dead = append(dead, bytes.Clone(k))
			case len(live) < len(r.Slots):
				r.Slots = live
				changed = append(changed, change{bytes.Clone(k), r.Encode()})
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
			n += Count(v)
			return nil
		})
	})
	return n, err
}

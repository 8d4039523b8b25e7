package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// CorruptPurge says what [Spool.PurgeCorrupt] removed with a corrupt
// record.
type CorruptPurge struct {
	// Dead is set if the record was in the dead-letter area.
	Dead bool

	// IndexKeys is how many index keys named the report (none for a dead
	// one).
	IndexKeys int

	// Bodies is how many bodies kept apart were removed: the record's
	// own, and, once no corrupt record is left, every body that no record
	// names any more.
	Bodies int

	// BodyLeft is set if the record's body key could not be read and
	// other corrupt records remain, so that its body cannot be told from
	// theirs: it stays in the file until the last of them is purged.
	BodyLeft bool
}

// forget drops report id from the records named by Corrupt, once it is no
// longer in the file.
func (s *Spool) forget(id string) {
	s.corruptMu.Lock()
	defer s.corruptMu.Unlock()
	delete(s.corrupt, id)
}

// PurgeCorrupt permanently removes a report, pending or dead, whose record
// is corrupt (it, or the body it names, fails its checksum or does not
// decode; see [Spool.Corrupt]): the record, every index key that names
// the report, and its body. The report cannot be read back, so this is
// the only way out for it short of restoring a backup.
//
// The body of a record that fails its checksum is found by the body key
// the record still holds, unless another record names the same body. If
// that key cannot be read either, the body is removed once no other
// corrupt record is left: then every body that no record names is one
// whose record is gone. Nothing a sound record names is ever removed.
//
// A report whose record can be read is refused with [ErrNotCorrupt]; one
// not in the spool with [ErrNotFound].
func (s *Spool) PurgeCorrupt(id string) (CorruptPurge, error) {
	if err := checkID(id); err != nil {
		return CorruptPurge{}, fmt.Errorf("purge corrupt report: %w", err)
	}
	var p CorruptPurge
	err := s.update(func(tx *bolt.Tx) error {
		bucket := bucketEntries
		if tx.Bucket(bucketEntries).Get([]byte(id)) == nil {
			bucket = bucketDead
		}
		_, err := getEntry(tx, bucket, id)
		switch {
		case err == nil:
			return ErrNotCorrupt
		case !errors.Is(err, ErrCorrupt):
			return err
		}
		p, err = removeCorrupt(tx, bucket, id)
		return err
	})
	if err != nil {
		return CorruptPurge{}, fmt.Errorf("purge corrupt report %s: %w", id, err)
	}
	s.forget(id)
	return p, nil
}

// removeCorrupt removes the corrupt record of report id from bucket, the
// index keys that name it, and its body, as PurgeCorrupt describes.
func removeCorrupt(tx *bolt.Tx, bucket []byte, id string) (CorruptPurge, error) {
	p := CorruptPurge{Dead: bytes.Equal(bucket, bucketDead)}
	rec := bytes.Clone(tx.Bucket(bucket).Get([]byte(id)))
	if err := tx.Bucket(bucket).Delete([]byte(id)); err != nil {
		return p, err
	}
	// Index keys are found by the id they end with: the times that make
	// up the rest of them may be what the damage changed.
	for _, name := range [][]byte{bucketDue, bucketRetry, bucketUrgent, bucketReceived} {
		n, err := deleteKeysOf(tx.Bucket(name), id)
		if err != nil {
			return p, err
		}
		p.IndexKeys += n
	}
	named, othersCorrupt, err := namedBodies(tx)
	if err != nil {
		return p, err
	}
	bodies := tx.Bucket(bucketBodies)
	ownRemoved := false
	if ref, ok := bodyKeyOf(rec); ok && !named[ref] && bodies.Get(bodyKey(ref)) != nil {
		if err := bodies.Delete(bodyKey(ref)); err != nil {
			return p, err
		}
		p.Bodies++
		ownRemoved = true
	}
	var unnamed [][]byte
	c := bodies.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 8 || !named[binary.BigEndian.Uint64(k)] {
			unnamed = append(unnamed, bytes.Clone(k))
		}
	}
	if othersCorrupt {
		p.BodyLeft = !ownRemoved && len(unnamed) > 0
		return p, nil
	}
	for _, k := range unnamed {
		if err := bodies.Delete(k); err != nil {
			return p, err
		}
		p.Bodies++
	}
	return p, nil
}

// deleteKeysOf removes the keys of index b that name report id, and says
// how many there were.
func deleteKeysOf(b *bolt.Bucket, id string) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if indexKeyID(k) == id {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// namedBodies returns the body keys that the records of the spool name:
// those of sound records, and those that corrupt records still seem to
// hold; othersCorrupt is set if any record does not decode.
func namedBodies(tx *bolt.Tx) (named map[uint64]bool, othersCorrupt bool, err error) {
	named = map[uint64]bool{}
	for _, name := range [][]byte{bucketEntries, bucketDead} {
		err := tx.Bucket(name).ForEach(func(k, v []byte) error {
			e, err := decodeRecord(v)
			if err != nil {
				othersCorrupt = true
				if ref, ok := bodyKeyOf(v); ok {
					named[ref] = true
				}
				return nil
			}
			if e.bodyRef != 0 {
				named[e.bodyRef] = true
			}
			return nil
		})
		if err != nil {
			return nil, false, err
		}
	}
	return named, othersCorrupt, nil
}

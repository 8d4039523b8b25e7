package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"
)

// recordVersion is the first byte of every stored record. Bump it, and keep
// decoding the old versions, whenever the layout below changes. Version 2
// adds the flags; a record without any is still written as version 1, so
// that only a spool holding an urgent report needs a relay that reads 2.
const (
	recordVersion1 = 1
	recordVersion  = 2
	recordVersion3 = 3 // the body kept apart, in "bodies"
)

// Flags of a version 2 record.
const (
	flagUrgent = 1 << iota
	knownFlags = flagUrgent
)

// crcTable is CRC-32C (Castagnoli), used to detect records damaged at rest:
// bbolt checksums its meta pages but not the data pages.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord serializes e in the layout described in the package
// documentation: version 2 if e has a flag, else version 1. It does not
// validate e; Put and the other writers do that before calling it, and
// decodeRecord enforces the same limits on the way back. The Dead field is not part of the record: it is implied by the bucket.
//
// An entry whose body is kept apart (bodyRef set) is written as version 3,
// which holds the body's key in "bodies" instead of the body.
func encodeRecord(e Entry) []byte {
	n := 1 + 7*binary.MaxVarintLen64 + 2*binary.MaxVarintLen64 +
		len(e.ID) + len(e.Hotline) + len(e.Site) + len(e.LastError) + len(e.Body) + 4
	var flags uint64
	if e.Urgent {
		flags |= flagUrgent
	}
	version := byte(recordVersion1)
	if flags != 0 {
		version = recordVersion
	}
	if e.bodyRef != 0 {
		version = recordVersion3
	}
	b := make([]byte, 0, n)
	b = append(b, version)
	b = appendBytes(b, []byte(e.ID))
	b = appendBytes(b, []byte(e.Hotline))
	b = appendBytes(b, []byte(e.Site))
	b = binary.AppendVarint(b, e.Received.Unix())
	b = binary.AppendVarint(b, e.NextAttempt.UnixNano())
	b = binary.AppendUvarint(b, uint64(e.Attempts))
	if version != recordVersion1 {
		b = binary.AppendUvarint(b, flags)
	}
	b = appendBytes(b, []byte(e.LastError))
	if version == recordVersion3 {
		b = binary.AppendUvarint(b, e.bodyRef)
	} else {
		b = appendBytes(b, e.Body)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// encodeBody is how a body kept apart is stored in "bodies": the body,
// then the big-endian CRC-32C of it.
func encodeBody(body []byte) []byte {
	b := make([]byte, 0, len(body)+4)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(body, crcTable))
}

// decodeBody checks a value of "bodies" and returns a copy of its body.
// Its errors wrap ErrCorrupt.
func decodeBody(v []byte) ([]byte, error) {
	if len(v) < 1+4 {
		return nil, fmt.Errorf("%w: body of %d bytes, too short", ErrCorrupt, len(v))
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, fmt.Errorf("%w: body checksum mismatch", ErrCorrupt)
	}
	return bytes.Clone(body), nil
}

func appendBytes(b, field []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(field)))
	return append(b, field...)
}

// peekHotline returns the hotline of a record without checking or decoding
// the rest, or "" if the record is too short to hold one; decodeRecord
// still checks the whole record before it is used.
func peekHotline(rec []byte) string {
	if len(rec) < 1 || rec[0] < recordVersion1 || rec[0] > recordVersion3 {
		return ""
	}
	d := decoder{b: rec[1:]}
	d.bytes("id", MaxIDLen)
	h := d.bytes("hotline", MaxNameLen)
	if d.err != nil {
		return ""
	}
	return string(h)
}

// decodeRecord parses a record written by encodeRecord. It never panics and
// never allocates more than len(rec) bytes: every length is checked against
// the bytes that remain. All errors wrap ErrCorrupt.
func decodeRecord(rec []byte) (Entry, error) {
	e, err := parseRecord(rec)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return e, nil
}

func parseRecord(rec []byte) (Entry, error) {
	if len(rec) < 1+4 {
		return Entry{}, fmt.Errorf("record is %d bytes, too short", len(rec))
	}
	version := rec[0]
	if version < recordVersion1 || version > recordVersion3 {
		return Entry{}, fmt.Errorf("unknown record version %d: a newer relay wrote this record", version)
	}
	payload, sum := rec[:len(rec)-4], binary.BigEndian.Uint32(rec[len(rec)-4:])
	if crc32.Checksum(payload, crcTable) != sum {
		return Entry{}, errors.New("record checksum mismatch")
	}
	f, err := readFields(payload)
	if err != nil {
		return Entry{}, err
	}
	e, received, next, attempts, flags := f.e, f.received, f.next, f.attempts, f.flags
	if e.ID == "" {
		return Entry{}, errors.New("id is empty")
	}
	if e.Hotline == "" {
		return Entry{}, errors.New("hotline is empty")
	}
	if version == recordVersion3 && e.bodyRef == 0 {
		return Entry{}, errors.New("body key is zero")
	}
	if version != recordVersion3 && len(e.Body) == 0 {
		return Entry{}, errors.New("body is empty")
	}
	if received < 0 || received > maxUnixSeconds {
		return Entry{}, fmt.Errorf("received time %d out of range", received)
	}
	if next < 0 {
		return Entry{}, fmt.Errorf("next attempt time %d out of range", next)
	}
	if attempts > math.MaxInt32 {
		return Entry{}, fmt.Errorf("attempts %d out of range", attempts)
	}
	if flags&^knownFlags != 0 {
		return Entry{}, fmt.Errorf("unknown flags %#x: a newer relay wrote this record", flags&^knownFlags)
	}
	if version == recordVersion && flags == 0 {
		return Entry{}, errors.New("version 2 record without flags")
	}
	e.Received = time.Unix(received, 0).UTC()
	e.NextAttempt = time.Unix(0, next).UTC()
	e.Attempts = int(attempts)
	e.Urgent = flags&flagUrgent != 0
	return e, nil
}

// fields are a record's fields as read, before they are checked.
type fields struct {
	e               Entry // ID, Hotline, Site, LastError, Body or bodyRef
	received, next  int64
	attempts, flags uint64
}

// readFields reads the fields of a record's payload (the record without
// its checksum), whose first byte is a known version.
func readFields(payload []byte) (fields, error) {
	version := payload[0]
	d := decoder{b: payload[1:]}
	var f fields
	f.e.ID = string(d.bytes("id", MaxIDLen))
	f.e.Hotline = string(d.bytes("hotline", MaxNameLen))
	f.e.Site = string(d.bytes("site", MaxNameLen))
	f.received = d.varint("received")
	f.next = d.varint("next attempt")
	f.attempts = d.uvarint("attempts")
	if version != recordVersion1 {
		f.flags = d.uvarint("flags")
	}
	f.e.LastError = string(d.bytes("last error", MaxLastErrorLen))
	if version == recordVersion3 {
		f.e.bodyRef = d.uvarint("body key")
	} else {
		f.e.Body = d.bytes("body", math.MaxInt)
	}
	if d.err != nil {
		return fields{}, d.err
	}
	if len(d.b) != 0 {
		return fields{}, fmt.Errorf("%d trailing bytes after body", len(d.b))
	}
	return f, nil
}

// bodyKeyOf reads the body key of a version 3 record without checking
// its checksum, for a record that fails it: ok is false if the record is
// of another version or does not read as one. A key read this way may
// itself be damaged; the caller checks it against the other records.
func bodyKeyOf(rec []byte) (ref uint64, ok bool) {
	if len(rec) < 1+4 || rec[0] != recordVersion3 {
		return 0, false
	}
	f, err := readFields(rec[:len(rec)-4])
	if err != nil || f.e.bodyRef == 0 {
		return 0, false
	}
	return f.e.bodyRef, true
}

// decoder reads fields from a record, remembering the first error so that
// parseRecord reads as a list of fields.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("bad %s field", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("bad %s field", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes reads a length-prefixed field of at most max bytes and returns a copy,
// so the result stays valid after the bbolt transaction ends.
func (d *decoder) bytes(field string, max int) []byte {
	n := d.uvarint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%s field length %d exceeds record", field, n)
		return nil
	}
	if n > uint64(max) {
		d.err = fmt.Errorf("%s field length %d exceeds limit %d", field, n, max)
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b[:n])
	d.b = d.b[n:]
	return v
}

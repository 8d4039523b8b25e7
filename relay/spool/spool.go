// Package spool is the relay's durable store of encrypted reports that are
// waiting to be forwarded to a hotline.
//
// A report is accepted from the browser, stored with [Spool.Put] in one
// fsynced bbolt transaction, and only then acknowledged. The forwarder lists
// the reports that are due with [Spool.Due], tries to deliver each one, and
// then removes it with [Spool.Delete] once the hotline answered 2xx, retries
// it later with [Spool.Reschedule], or gives up with [Spool.Bury], which moves
// it to a dead-letter bucket where an operator can [Spool.Revive] or
// [Spool.Purge] it. Nothing leaves the spool except by Delete after delivery
// or by an explicit Purge (or [Spool.PurgeCorrupt], for a report whose
// record a disk damaged).
//
// The spool holds only the age ciphertext and the minimal metadata needed to
// route and retry it (see [Entry]). It never holds plaintext, and nothing about
// the client: no IP address, no user agent, no headers.
//
// # Storage layout
//
// The bbolt file has these buckets:
//
//   - "entries": report id → record, for reports waiting to be delivered;
//   - "bodies": 8-byte big-endian number → body ‖ its CRC-32C, the
//     ciphertexts of version 3 records, numbered in the order they were
//     stored (the bucket's sequence), so that the bodies of a group of
//     new reports are appended at the end of the tree instead of each
//     rewriting a leaf of other reports' envelopes: about half the bytes
//     written per report;
//   - "due": 8-byte big-endian NextAttempt in Unix nanoseconds ‖ id → empty,
//     the index [Spool.Due] and [Spool.NextDue] walk in order instead of
//     scanning every record;
//   - "received": 8-byte big-endian Received in Unix seconds ‖ id → empty,
//     so [Spool.Stats] finds the oldest pending report without a scan;
//   - "retry": the "due" key of each pending report that failed at least
//     once (Attempts > 0), so that [Spool.Due] can put retries that fell due
//     ahead of a backlog of first attempts due earlier; added in place to
//     files made before it existed;
//   - "urgent": the "due" key of each pending report marked urgent, so
//     that [Spool.Due] lists the urgent reports that fell due ahead of all
//     others, on every attempt; added in place to files made before it
//     existed (which hold no urgent report);
//   - "dead": report id → record, for buried reports;
//   - "meta": "format" → the layout version ("2"; a file of format "1",
//     which has no "bodies", is upgraded when opened), "probe" → written by
//     [Spool.Writable].
//
// Every pending report has exactly one key in "due" and in "received", one
// in "retry" if and only if its Attempts is not zero, and one in "urgent"
// if and only if it is marked urgent; every change to a report updates the
// record and its index keys in the same transaction.
// A report id is in at most one of "entries" and "dead", and every body in
// "bodies" belongs to exactly one version 3 record of either.
//
// # Record format
//
// A record is a versioned binary encoding. Version 1 is:
//
//	version    byte = 1
//	id         uvarint length ‖ bytes   (1 to MaxIDLen bytes)
//	hotline    uvarint length ‖ bytes   (1 to MaxNameLen bytes)
//	site       uvarint length ‖ bytes   (0 to MaxNameLen bytes)
//	received   varint Unix seconds
//	next       varint Unix nanoseconds
//	attempts   uvarint
//	last error uvarint length ‖ bytes   (0 to MaxLastErrorLen bytes)
//	body       uvarint length ‖ bytes   (the age ciphertext, at least 1 byte)
//	checksum   4 bytes, big-endian CRC-32C of everything above
//
// Version 2 adds one field after attempts:
//
//	flags      uvarint, not zero; bit 0: the report is urgent ([Entry.Urgent])
//
// Version 3 always has the flags field (it may be zero), and in place of
// the body:
//
//	body key   uvarint, not zero: the body's number in "bodies"
//
// Every report stored now is written as version 3, and keeps its body's
// number when its record is rewritten (a retry, burying, reviving). Records
// of versions 1 and 2, from files made before, are read and rewritten as
// they are. A version 1 record is not urgent. Unknown flags are refused as
// [ErrCorrupt].
//
// The checksum catches records damaged at rest, since bbolt only checksums its
// meta pages. A record that does not decode is reported as [ErrCorrupt]; it
// is never silently dropped. Listing due or dead reports passes over it,
// so that it does not stop the others' delivery, and names it in
// [Spool.Corrupt]; an operator removes it with [Spool.PurgeCorrupt].
package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Limits on the fields of an [Entry]. They keep index keys small and stop a
// malformed request from filling the spool with metadata.
const (
	// MaxIDLen is the longest report id the spool accepts, in bytes. A UUID
	// string is 36 bytes.
	MaxIDLen = 64

	// MaxNameLen is the longest hotline or site id the spool accepts, in bytes.
	MaxNameLen = 255

	// MaxLastErrorLen is the longest LastError kept; longer descriptions are
	// truncated, on a UTF-8 boundary, by Reschedule and Bury.
	MaxLastErrorLen = 512
)

// Errors returned by the spool, wrapped with the operation and report id.
// Check them with [errors.Is].
var (
	// ErrNotFound means the report is not in the spool, or not in the state
	// the operation needs (pending for Reschedule, Delete and Bury; dead for
	// Revive and Purge).
	ErrNotFound = errors.New("report not found")

	// ErrConflict means a report with the same id but a different body (or
	// hotline, or site) is already stored. Ids are the idempotency key, so
	// this is a client bug or an attack, never a retry.
	ErrConflict = errors.New("report id already stored with a different body")

	// ErrInvalid means the entry or argument was rejected before touching the
	// file: an empty or too long id, an empty body, a time out of range.
	ErrInvalid = errors.New("invalid report")

	// ErrCorrupt means a record or index key in the file does not decode or
	// the indexes disagree with the records. It needs an operator.
	ErrCorrupt = errors.New("corrupt spool record")

	// ErrNotCorrupt means [Spool.PurgeCorrupt] was asked to remove a
	// report whose record can be read: such a report is delivered, or, if
	// dead, revived or purged with [Spool.Purge].
	ErrNotCorrupt = errors.New("report record is not corrupt")

	// ErrClosed means the spool was used after Close.
	ErrClosed = errors.New("spool is closed")

	// ErrLocked means another process holds the spool file open. bbolt takes
	// an exclusive lock, so only one relay can use a spool at a time.
	ErrLocked = errors.New("spool is locked by another process")

	// ErrDamaged means the file is not a bbolt file, or its header pages
	// fail their checks: a disk that lost it, or another file in its
	// place. A killed relay never leaves one (bbolt commits whole
	// transactions or none). It needs an operator.
	ErrDamaged = errors.New("spool file is damaged or not a spool")
)

// formatVersion is stored in the meta bucket; Open refuses other values,
// except that it upgrades a file of an older format in place, so that a
// relay too old to read a file refuses it when it starts rather than a
// record later on. Format 2 added "bodies" and version 3 records; format
// 3 orders reports of the same time in the indexes by their body number
// instead of their id (see indexKey).
const (
	formatVersion  = "3"
	formatVersion2 = "2"
	formatVersion1 = "1"
)

// lockTimeout is how long Open waits for another process to release the file
// before failing with ErrLocked.
var lockTimeout = 1 * time.Second

var (
	bucketEntries  = []byte("entries")
	bucketDue      = []byte("due")
	bucketReceived = []byte("received")
	bucketRetry    = []byte("retry")
	bucketUrgent   = []byte("urgent")
	bucketDead     = []byte("dead")
	bucketBodies   = []byte("bodies")
	bucketMeta     = []byte("meta")

	keyFormat = []byte("format")
	keyProbe  = []byte("probe")
)

// maxUnixSeconds is the latest time whose Unix nanoseconds fit in an int64
// (in 2262), the range the "due" index can represent.
const maxUnixSeconds = math.MaxInt64 / int64(time.Second)

// Entry is one encrypted report and the metadata needed to deliver it.
type Entry struct {
	// ID is the report id (a UUID string), the idempotency key from the
	// browser to the hotline.
	ID string

	// Hotline is the id of the hotline the report is routed to.
	Hotline string

	// Site is the id of the partner site the report came through.
	Site string

	// Received is when the relay accepted the report, in UTC, truncated to
	// the second so it reveals no more than needed.
	Received time.Time

	// Body is the age ciphertext, opaque to the relay.
	Body []byte

	// Attempts is how many delivery attempts have failed so far.
	Attempts int

	// NextAttempt is when the forwarder should next try to deliver the report.
	NextAttempt time.Time

	// LastError is a short description of the last delivery failure, or the
	// reason the report was buried. It must never contain a body.
	LastError string

	// Dead reports whether the entry is in the dead-letter bucket. It is
	// derived from where the record is stored, and ignored by Put.
	Dead bool

	// Urgent is set when the form marked the report urgent (its reporter
	// said a child is in danger right now, or that they are being
	// threatened; see docs/delivery.md). An urgent report that is due is
	// listed ahead of every report that is not, on every attempt.
	Urgent bool

	// bodyRef is the key in "bodies" of a body kept apart (a version 3
	// record), or 0 for a body held in the record itself.
	bodyRef uint64
}

// Stats summarizes the spool for metrics and health checks.
type Stats struct {
	// Pending is the number of reports waiting to be delivered.
	Pending int

	// Dead is the number of buried reports waiting for an operator.
	Dead int

	// Oldest is the earliest Received among pending reports, or the zero
	// time if there are none. A growing age means delivery is stuck.
	Oldest time.Time
}

// Commits counts the spool's durable commits since it was opened: the
// write transactions committed to the file, each ending with its fsync,
// and the time they took. Time grows by about as much as the wall clock
// when commits run back to back, which is when the disk holds the spool's
// writes back.
type Commits struct {
	// N is the number of write transactions committed.
	N uint64

	// Time is the time spent in them, from the start of each transaction
	// to the end of its fsync.
	Time time.Duration
}

// Spool is a durable store of encrypted reports backed by one bbolt file.
// It is safe for concurrent use; every write is fsynced before it returns,
// and the writes of reports under way at once share one transaction and
// one fsync.
type Spool struct {
	dbMu   sync.RWMutex // held for writing while Compact replaces db
	db     *bolt.DB
	path   string
	closed atomic.Bool
	group  *committer
	// nextCheck is when the commit loop next looks whether to compact.
	nextCheck time.Time
	// compactErr is why the compaction tried at open failed, if it did.
	compactErr error
	// readOnly is set by OpenReadOnly: the file is never compacted.
	readOnly bool
	// renamed, if set, is called once a compaction has put its copy in
	// place and before the file is opened again, for tests.
	renamed func()

	corruptMu sync.Mutex
	corrupt   map[string]string // id → why, for records set aside (Corrupt)

	// commitN and commitTime count the write transactions committed
	// (with their fsync) and their time in nanoseconds, for Commits.
	commitN    atomic.Uint64
	commitTime atomic.Int64
}

// setAside notes that the record of report id does not decode, so that
// listing due or dead reports passes over it rather than stopping at it.
func (s *Spool) setAside(id string, err error) {
	s.corruptMu.Lock()
	defer s.corruptMu.Unlock()
	if s.corrupt == nil {
		s.corrupt = map[string]string{}
	}
	s.corrupt[id] = err.Error()
}

// Corrupt returns the reports whose records did not decode (their
// checksum failed: a disk damaged them) when the spool listed due or dead
// reports, each with why. Such a record is passed over, so one damaged
// record does not stop the delivery of the others; it stays in the file
// until an operator removes it with [Spool.PurgeCorrupt]
// (docs/deployment.md, "A damaged spool").
func (s *Spool) Corrupt() map[string]string {
	s.corruptMu.Lock()
	defer s.corruptMu.Unlock()
	out := make(map[string]string, len(s.corrupt))
	for id, why := range s.corrupt {
		out[id] = why
	}
	return out
}

// Open opens the spool file at path, creating it (mode 0600) and its parent
// directory (mode 0700) if needed. If another process holds the file, Open
// gives up after a second with an error wrapping ErrLocked, rather than
// hanging the way a bare bbolt open would.
func Open(path string) (*Spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	db, err := openDB(path)
	if err != nil {
		return nil, openErr(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var v []byte
		if meta := tx.Bucket(bucketMeta); meta != nil {
			v = meta.Get(keyFormat)
		}
		switch {
		case v == nil, string(v) == formatVersion1, string(v) == formatVersion2:
			if err := rekeyIndexes(tx); err != nil {
				return fmt.Errorf("upgrade the indexes to format %s: %w", formatVersion, err)
			}
		case string(v) != formatVersion:
			return fmt.Errorf("unsupported spool format %q: a newer relay wrote this file; run a relay at least as new as that one", v)
		}
		for _, name := range [][]byte{bucketEntries, bucketDue, bucketReceived, bucketUrgent, bucketDead, bucketMeta, bucketBodies} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if tx.Bucket(bucketRetry) == nil {
			if err := addRetryIndex(tx); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte(formatVersion))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	s := &Spool{db: db, path: path}
	if compactAtOpen(db) {
		// A copy that cannot be made (a full disk) leaves the file in
		// use as it was: compacting only gives disk back, and must not
		// keep the relay from starting and delivering.
		if _, _, err := s.compactLocked(); err != nil {
			if s.db == nil {
				return nil, fmt.Errorf("open spool %s: %w", path, err)
			}
			s.compactErr = err
		}
	}
	s.group = newCommitter(s)
	return s, nil
}

// openErr says why the bbolt file at path did not open.
func openErr(path string, err error) error {
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("open spool %s: %w", path, ErrLocked)
	}
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return fmt.Errorf("open spool %s: %w (%w)", path, ErrDamaged, err)
	}
	return fmt.Errorf("open spool %s: %w", path, err)
}

// OpenReadOnly opens the spool file at path to read it only, where Open
// cannot write to it: on a disk mounted read-only (as a filesystem that
// met errors is), or for a user who may only read it. It fails with
// [ErrLocked] while a relay has the file, and refuses a file of an older
// format, which only Open upgrades. Every write to it fails.
func OpenReadOnly(path string) (*Spool, error) {
	opts := *bolt.DefaultOptions
	opts.Timeout = lockTimeout
	opts.ReadOnly = true
	db, err := bolt.Open(path, 0o600, &opts)
	if err != nil {
		return nil, openErr(path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		var v []byte
		if meta := tx.Bucket(bucketMeta); meta != nil {
			v = meta.Get(keyFormat)
		}
		if string(v) != formatVersion {
			return fmt.Errorf("the file is of spool format %q, not %q: only a relay that can write to it upgrades it", v, formatVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	s := &Spool{db: db, path: path, readOnly: true}
	s.group = newCommitter(s)
	return s, nil
}

// openDB opens the bbolt file with the spool's options.
func openDB(path string) (*bolt.DB, error) {
	opts := *bolt.DefaultOptions
	opts.Timeout = lockTimeout
	opts.NoSync = false // explicit: every commit is fsynced
	// The free list is not written at each commit but rebuilt when the
	// file is opened: after a backlog drained, a large file's free list
	// would otherwise be megabytes written with every report.
	opts.NoFreelistSync = true
	opts.FreelistType = bolt.FreelistMapType
	for range maxReplaced {
		var held *os.File // the file bbolt opens, and locks
		opts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			held = f
			return f, err
		}
		db, err := bolt.Open(path, 0o600, &opts)
		if err != nil {
			return nil, err
		}
		same, err := holdsPath(held, path)
		if err != nil {
			db.Close()
			return nil, err
		}
		if same {
			return db, nil
		}
		// The file was replaced while this waited for its lock (a
		// compaction put its copy in its place): what is written to the
		// file it holds would be lost with it. Open the one there now.
		db.Close()
	}
	return nil, fmt.Errorf("the file was replaced %d times while it was being opened", maxReplaced)
}

// maxReplaced bounds how many times openDB opens a file again that was
// replaced while it waited for its lock.
const maxReplaced = 10

// holdsPath reports whether the open file f is still the one at path.
func holdsPath(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	named, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(held, named), nil
}

// Close releases the file and its lock. Every successful write is already
// on disk, so Close has nothing to flush. Using the spool after Close, or
// closing it twice, returns ErrClosed.
func (s *Spool) Close() error {
	if s.closed.Swap(true) {
		return fmt.Errorf("close spool %s: %w", s.path, ErrClosed)
	}
	s.group.stop()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return fmt.Errorf("close spool %s: %w", s.path, ErrClosed)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close spool %s: %w", s.path, err)
	}
	return nil
}

// Put stores a new report in one fsynced transaction, and returns the stored
// entry. Only after Put returns nil may the relay acknowledge the report.
// Puts and other writes under way at the same time share one transaction
// and its fsync (a group commit); each returns only once it is on disk.
//
// Put is idempotent: if a report with the same ID, Hotline, Site and Body is
// already stored (pending or dead), Put returns it with created false and
// writes nothing. If the ID is stored with different content, Put returns
// an error wrapping ErrConflict. A report that was already delivered and
// deleted is stored again; the hotline deduplicates by ID.
//
// Put normalizes the entry: Received defaults to now and is truncated to the
// second in UTC; NextAttempt defaults to Received; Attempts and LastError
// start empty, and Dead is false.
func (s *Spool) Put(e Entry) (stored Entry, created bool, err error) {
	if err := checkID(e.ID); err != nil {
		return Entry{}, false, fmt.Errorf("put report: %w", err)
	}
	if err := checkEntry(&e); err != nil {
		return Entry{}, false, fmt.Errorf("put report %s: %w", e.ID, err)
	}
	id := []byte(e.ID)
	var exists bool
	err = s.grouped(func(tx *bolt.Tx) error {
		exists = false
		for _, name := range [][]byte{bucketEntries, bucketDead} {
			old, err := getEntry(tx, name, e.ID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if old.Hotline != e.Hotline || old.Site != e.Site || !bytes.Equal(old.Body, e.Body) {
				return ErrConflict
			}
			old.Dead = bytes.Equal(name, bucketDead)
			stored, exists = old, true
			return nil
		}
		// The body goes apart, under the next number: new bodies are
		// appended to the end of "bodies", so a group's bodies fill
		// fresh pages instead of rewriting a leaf of other reports each.
		ref, err := putBody(tx, e.Body)
		if err != nil {
			return err
		}
		rec := e
		rec.bodyRef = ref
		if err := tx.Bucket(bucketEntries).Put(id, encodeRecord(rec)); err != nil {
			return err
		}
		return putIndexes(tx, rec)
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("put report %s: %w", e.ID, err)
	}
	if exists {
		return stored, false, nil
	}
	return e, true, nil
}

// checkEntry validates and normalizes a new entry for Put.
func checkEntry(e *Entry) error {
	if e.Hotline == "" {
		return fmt.Errorf("%w: hotline is empty", ErrInvalid)
	}
	if len(e.Hotline) > MaxNameLen {
		return fmt.Errorf("%w: hotline is longer than %d bytes", ErrInvalid, MaxNameLen)
	}
	if len(e.Site) > MaxNameLen {
		return fmt.Errorf("%w: site is longer than %d bytes", ErrInvalid, MaxNameLen)
	}
	if len(e.Body) == 0 {
		return fmt.Errorf("%w: body is empty", ErrInvalid)
	}
	if e.Received.IsZero() {
		e.Received = time.Now()
	}
	e.Received = e.Received.UTC().Truncate(time.Second)
	if err := checkTime("received time", e.Received); err != nil {
		return err
	}
	if e.NextAttempt.IsZero() {
		e.NextAttempt = e.Received
	}
	e.NextAttempt = e.NextAttempt.UTC().Round(0)
	if err := checkTime("next attempt time", e.NextAttempt); err != nil {
		return err
	}
	e.Attempts = 0
	e.LastError = ""
	e.Dead = false
	return nil
}

// checkID rejects ids that cannot be stored or would make index keys unbounded.
func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: id is empty", ErrInvalid)
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("%w: id is longer than %d bytes", ErrInvalid, MaxIDLen)
	}
	return nil
}

// checkTime rejects times the indexes cannot order: before 1970 or after 2262.
func checkTime(what string, t time.Time) error {
	if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, math.MaxInt64)) {
		return fmt.Errorf("%w: %s %v out of range", ErrInvalid, what, t)
	}
	return nil
}

// Get returns the report with the given id, pending or dead (see Entry.Dead),
// or an error wrapping ErrNotFound.
func (s *Spool) Get(id string) (Entry, error) {
	if err := checkID(id); err != nil {
		return Entry{}, fmt.Errorf("get report: %w", err)
	}
	var e Entry
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		if e, err = getEntry(tx, bucketEntries, id); !errors.Is(err, ErrNotFound) {
			return err
		}
		e, err = getEntry(tx, bucketDead, id)
		e.Dead = err == nil
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("get report %s: %w", id, err)
	}
	return e, nil
}

// getEntry reads and decodes one record from bucket.
func getEntry(tx *bolt.Tx, bucket []byte, id string) (Entry, error) {
	v := tx.Bucket(bucket).Get([]byte(id))
	if v == nil {
		return Entry{}, ErrNotFound
	}
	e, err := decodeRecord(v)
	if err != nil {
		return Entry{}, err
	}
	if e.ID != id {
		return Entry{}, fmt.Errorf("%w: record stored under id %q holds id %q", ErrCorrupt, id, e.ID)
	}
	if err := readBody(tx, &e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// putBody stores a body apart, under the next free number of "bodies",
// and returns that number.
func putBody(tx *bolt.Tx, body []byte) (uint64, error) {
	b := tx.Bucket(bucketBodies)
	b.FillPercent = 1 // appended in order: leaves need no room for inserts
	for {
		ref, err := b.NextSequence()
		if err != nil {
			return 0, err
		}
		k := bodyKey(ref)
		if b.Get(k) != nil {
			continue // never overwrite: a sequence reset must not lose a body
		}
		return ref, b.Put(k, encodeBody(body))
	}
}

// readBody fills in the body of an entry whose body is kept apart.
func readBody(tx *bolt.Tx, e *Entry) error {
	if e.bodyRef == 0 {
		return nil
	}
	v := tx.Bucket(bucketBodies).Get(bodyKey(e.bodyRef))
	if v == nil {
		return fmt.Errorf("%w: report %s names body %d, which is missing", ErrCorrupt, e.ID, e.bodyRef)
	}
	body, err := decodeBody(v)
	if err != nil {
		return fmt.Errorf("report %s: %w", e.ID, err)
	}
	e.Body = body
	return nil
}

// deleteBody removes the body an entry keeps apart, if it does.
func deleteBody(tx *bolt.Tx, e Entry) error {
	if e.bodyRef == 0 {
		return nil
	}
	return tx.Bucket(bucketBodies).Delete(bodyKey(e.bodyRef))
}

// bodyKey is the key in "bodies" of body number ref: 8 bytes, big-endian,
// so that key order is the order bodies were stored in.
func bodyKey(ref uint64) []byte { return binary.BigEndian.AppendUint64(nil, ref) }

// Due returns up to limit pending reports whose NextAttempt is at or before
// now. A limit of zero or less means no limit. Urgent reports come first,
// earliest first, then reports that failed before, earliest first, up to
// half of what remains of the limit (or all of them without a limit), then
// first attempts, earliest first: an urgent report that fell due waits
// behind no other, and a retry that fell due does not wait behind a
// backlog of reports due before it. It walks the indexes,
// so its cost is proportional to the reports returned, not to the size of
// the spool.
func (s *Spool) Due(now time.Time, limit int) ([]Entry, error) {
	return s.DueSkipping(now, limit, nil, nil)
}

// maxDueSkips bounds how many reports one call of DueSkipping passes over,
// so that a caller whose every hotline is busy does not walk a whole
// backlog each time it looks.
const maxDueSkips = 4096

// DueSkipping is [Spool.Due] for a caller that can take only some reports:
// those for which skipID returns true, or then skipHotline for their
// hotline, are passed over without reading (for skipID) or decoding the
// rest of (for skipHotline) their record, and do not count toward limit.
// Either func may be nil. It passes over at most maxDueSkips reports.
func (s *Spool) DueSkipping(now time.Time, limit int, skipID, skipHotline func(string) bool) ([]Entry, error) {
	var cutoff int64 // the latest due index timestamp to return
	switch {
	case now.Before(time.Unix(0, 0)):
		return nil, nil
	case now.After(time.Unix(0, math.MaxInt64)):
		cutoff = math.MaxInt64
	default:
		cutoff = now.UnixNano()
	}
	var due []Entry
	err := s.view(func(tx *bolt.Tx) error {
		retry, urgent := tx.Bucket(bucketRetry), tx.Bucket(bucketUrgent)
		anyRetry, _ := retry.Cursor().First()
		anyUrgent, _ := urgent.Cursor().First()
		skipped := 0
		// walk lists the reports of index b that fell due, up to max in
		// all (none: no limit), passing over those that an earlier walk
		// of one of the indexes in listed returned.
		walk := func(b *bolt.Bucket, max int, listed ...*bolt.Bucket) error {
			c := b.Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if max > 0 && len(due) >= max {
					break
				}
				t, id, err := splitIndexKey(k)
				if err != nil {
					return err
				}
				if t > cutoff {
					break
				}
				if inAny(listed, k) {
					continue // returned by an earlier walk
				}
				if skipID != nil && skipID(id) {
					if skipped++; skipped >= maxDueSkips {
						break
					}
					continue
				}
				if skipHotline != nil {
					rec := tx.Bucket(bucketEntries).Get([]byte(id))
					if rec == nil {
						return fmt.Errorf("%w: due index names missing report %s", ErrCorrupt, id)
					}
					if skipHotline(peekHotline(rec)) {
						if skipped++; skipped >= maxDueSkips {
							break
						}
						continue
					}
				}
				e, err := getEntry(tx, bucketEntries, id)
				if errors.Is(err, ErrNotFound) {
					return fmt.Errorf("%w: due index names missing report %s", ErrCorrupt, id)
				}
				if errors.Is(err, ErrCorrupt) {
					s.setAside(id, err)
					continue
				}
				if err != nil {
					return err
				}
				due = append(due, e)
			}
			return nil
		}
		var listed []*bolt.Bucket
		if anyUrgent != nil {
			if err := walk(urgent, limit); err != nil {
				return err
			}
			listed = append(listed, urgent)
		}
		if limit > 0 && len(due) >= limit {
			return nil
		}
		retries := 0 // no limit
		if limit > 0 {
			rest := limit - len(due)
			retries = len(due) + rest - rest/2
		}
		if anyRetry != nil {
			if err := walk(retry, retries, listed...); err != nil {
				return err
			}
			listed = append(listed, retry)
		}
		return walk(tx.Bucket(bucketDue), limit, listed...)
	})
	if err != nil {
		return nil, fmt.Errorf("list due reports: %w", err)
	}
	return due, nil
}

// inAny reports whether any of the indexes holds key k.
func inAny(indexes []*bolt.Bucket, k []byte) bool {
	for _, b := range indexes {
		if b.Get(k) != nil {
			return true
		}
	}
	return false
}

// NextDue returns the earliest NextAttempt among pending reports, so the
// forwarder can sleep until then; ok is false if nothing is pending.
func (s *Spool) NextDue() (next time.Time, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketDue).Cursor().First()
		if k == nil {
			return nil
		}
		t, _, err := splitIndexKey(k)
		if err != nil {
			return err
		}
		next, ok = time.Unix(0, t).UTC(), true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next due report: %w", err)
	}
	return next, ok, nil
}

// Reschedule records a failed delivery attempt: it increments Attempts, sets
// NextAttempt to next and LastError to lastErr (truncated to
// MaxLastErrorLen), and moves the report's "due" index key, all in one
// transaction. The report must be pending.
func (s *Spool) Reschedule(id string, next time.Time, lastErr string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("reschedule report: %w", err)
	}
	next = next.UTC().Round(0)
	if err := checkTime("next attempt time", next); err != nil {
		return fmt.Errorf("reschedule report %s: %w", id, err)
	}
	err := s.modify(id, func(tx *bolt.Tx, e Entry) error {
		if err := deleteDueKeys(tx, e); err != nil {
			return err
		}
		if e.Attempts < math.MaxInt32 {
			e.Attempts++
		}
		e.NextAttempt = next
		e.LastError = truncate(lastErr, MaxLastErrorLen)
		if err := tx.Bucket(bucketEntries).Put([]byte(e.ID), encodeRecord(e)); err != nil {
			return err
		}
		return putDueKeys(tx, e)
	})
	if err != nil {
		return fmt.Errorf("reschedule report %s: %w", id, err)
	}
	return nil
}

// Delete removes a pending report and its index keys in one transaction.
// Call it only after the hotline answered 2xx: it is the only way a report
// leaves the spool without an operator.
func (s *Spool) Delete(id string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("delete report: %w", err)
	}
	err := s.modify(id, func(tx *bolt.Tx, e Entry) error {
		if err := tx.Bucket(bucketEntries).Delete([]byte(id)); err != nil {
			return err
		}
		if err := deleteBody(tx, e); err != nil {
			return err
		}
		return deleteIndexes(tx, e)
	})
	if err != nil {
		return fmt.Errorf("delete report %s: %w", id, err)
	}
	return nil
}

// DeleteAll removes the pending reports ids, delivered together, in one
// transaction shared with other writes under way (one fsync for all). Ids
// no longer pending are passed over. It reports how many it removed.
func (s *Spool) DeleteAll(ids []string) (int, error) {
	for _, id := range ids {
		if err := checkID(id); err != nil {
			return 0, fmt.Errorf("delete reports: %w", err)
		}
	}
	var n int
	err := s.grouped(func(tx *bolt.Tx) error {
		n = 0
		for _, id := range ids {
			e, err := getEntry(tx, bucketEntries, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketEntries).Delete([]byte(id)); err != nil {
				return err
			}
			if err := deleteBody(tx, e); err != nil {
				return err
			}
			if err := deleteIndexes(tx, e); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete %d reports: %w", len(ids), err)
	}
	return n, nil
}

// Bury moves a pending report to the dead-letter bucket, with reason as its
// LastError, so that the forwarder stops trying it but an operator can still
// inspect, Revive or Purge it. Attempts counts the attempt that failed last,
// as Reschedule does; NextAttempt is kept as it was.
func (s *Spool) Bury(id string, reason string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("bury report: %w", err)
	}
	err := s.modify(id, func(tx *bolt.Tx, e Entry) error {
		if err := tx.Bucket(bucketEntries).Delete([]byte(id)); err != nil {
			return err
		}
		if err := deleteIndexes(tx, e); err != nil {
			return err
		}
		e.LastError = truncate(reason, MaxLastErrorLen)
		if e.Attempts < math.MaxInt32 {
			e.Attempts++ // the attempt that failed last, as Reschedule counts one
		}
		return tx.Bucket(bucketDead).Put([]byte(id), encodeRecord(e))
	})
	if err != nil {
		return fmt.Errorf("bury report %s: %w", id, err)
	}
	return nil
}

// Dead returns every buried report, ordered by id, for an operator to review.
func (s *Spool) Dead() ([]Entry, error) {
	var dead []Entry
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			e, err := decodeRecord(v)
			if err == nil && e.ID != string(k) {
				err = fmt.Errorf("%w: record stored under id %q holds id %q", ErrCorrupt, k, e.ID)
			}
			if err == nil {
				err = readBody(tx, &e)
			}
			if errors.Is(err, ErrCorrupt) {
				s.setAside(string(k), err)
				return nil
			}
			if err != nil {
				return fmt.Errorf("report %q: %w", k, err)
			}
			e.Dead = true
			dead = append(dead, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list dead reports: %w", err)
	}
	return dead, nil
}

// Revive moves a buried report back to pending, due at now. Attempts is reset
// to zero so the forwarder's retry budget starts afresh; LastError keeps the
// reason it was buried until the next attempt.
func (s *Spool) Revive(id string, now time.Time) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("revive report: %w", err)
	}
	now = now.UTC().Round(0)
	if err := checkTime("next attempt time", now); err != nil {
		return fmt.Errorf("revive report %s: %w", id, err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		e, err := getEntry(tx, bucketDead, id)
		if err != nil {
			return err
		}
		if tx.Bucket(bucketEntries).Get([]byte(id)) != nil {
			return fmt.Errorf("%w: report is both pending and dead", ErrCorrupt)
		}
		e.Attempts = 0
		e.NextAttempt = now
		if err := tx.Bucket(bucketDead).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEntries).Put([]byte(id), encodeRecord(e)); err != nil {
			return err
		}
		return putIndexes(tx, e)
	})
	if err != nil {
		return fmt.Errorf("revive report %s: %w", id, err)
	}
	return nil
}

// Purge permanently removes a buried report. Only dead reports can be purged,
// so a pending report is never discarded by mistake.
func (s *Spool) Purge(id string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("purge report: %w", err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		// A record that does not decode is purged all the same: an
		// operator purges a damaged report to be rid of it.
		e, decodeErr := decodeRecord(v)
		if decodeErr != nil {
			_, err := removeCorrupt(tx, bucketDead, id)
			return err
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		return deleteBody(tx, e)
	})
	if err != nil {
		return fmt.Errorf("purge report %s: %w", id, err)
	}
	s.forget(id)
	return nil
}

// Stats counts pending and dead reports and finds the oldest pending one.
// It decodes no records: the counts and the oldest time come from the
// indexes and bucket statistics.
func (s *Spool) Stats() (Stats, error) {
	var st Stats
	err := s.view(func(tx *bolt.Tx) error {
		st.Pending = tx.Bucket(bucketReceived).Stats().KeyN
		st.Dead = tx.Bucket(bucketDead).Stats().KeyN
		if k, _ := tx.Bucket(bucketReceived).Cursor().First(); k != nil {
			t, _, err := splitIndexKey(k)
			if err != nil {
				return err
			}
			st.Oldest = time.Unix(t, 0).UTC()
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("read spool stats: %w", err)
	}
	return st, nil
}

// ProbeSize is how many bytes [Spool.Writable] writes: more than the
// largest report, so that a spool that passes can take any report.
const ProbeSize = 128 << 10

// Writable checks that the spool can commit a report of any size: it
// writes ProbeSize bytes in an fsynced transaction, shared with the
// reports being accepted at the time (a probe does not hold up accepts
// with a commit of its own). It is meant for a
// readiness probe, so that a relay whose disk is full or read-only stops
// being sent reports it cannot keep, and is sent them again once it can.
// A few bytes would not do: they fit in pages the file already has, while
// a report may need the file to grow.
func (s *Spool) Writable() error {
	probe := make([]byte, ProbeSize)
	binary.BigEndian.PutUint64(probe, uint64(time.Now().UnixNano()))
	err := s.grouped(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyProbe, probe)
	})
	if err != nil {
		return fmt.Errorf("check spool writable: %w", err)
	}
	return nil
}

// modify runs fn in a grouped write transaction on the pending report id,
// which the caller has checked with checkID.
func (s *Spool) modify(id string, fn func(tx *bolt.Tx, e Entry) error) error {
	return s.grouped(func(tx *bolt.Tx) error {
		e, err := getEntry(tx, bucketEntries, id)
		if err != nil {
			return err
		}
		return fn(tx, e)
	})
}

// update runs fn in a write transaction, committed and fsynced before it
// returns, and reports use after Close as ErrClosed.
func (s *Spool) update(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	err := s.commit(s.db, fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// commit runs fn in a write transaction on db, committed and fsynced,
// and counts the transaction and its time in [Spool.Commits] if it was
// committed. Every write of the spool after Open goes through it; online
// compaction, which copies the spool to a new file, is not counted.
func (s *Spool) commit(db *bolt.DB, fn func(tx *bolt.Tx) error) error {
	start := time.Now()
	err := db.Update(fn)
	if err == nil {
		s.commitTime.Add(int64(time.Since(start)))
		s.commitN.Add(1)
	}
	return err
}

// Commits returns how many write transactions the spool committed since
// it was opened, each with its fsync (the reports a group commit shares
// count once, as do the delivered reports a DeleteAll removes), and the
// time they took. A transaction that failed is not counted.
func (s *Spool) Commits() Commits {
	return Commits{N: s.commitN.Load(), Time: time.Duration(s.commitTime.Load())}
}

// grouped runs fn in a write transaction shared with the other grouped
// writes under way (see commit.go), committed and fsynced before it
// returns. fn may run twice and must set its results afresh each time.
func (s *Spool) grouped(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.group.do(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// view runs fn in a read-only transaction.
func (s *Spool) view(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// putIndexes adds the index keys of a pending report.
func putIndexes(tx *bolt.Tx, e Entry) error {
	if err := putDueKeys(tx, e); err != nil {
		return err
	}
	return tx.Bucket(bucketReceived).Put(receivedKey(e), nil)
}

// putDueKeys adds the "due" key of a pending report and, for a report that
// failed before, its "retry" key, and for an urgent one its "urgent" key.
func putDueKeys(tx *bolt.Tx, e Entry) error {
	k := dueKey(e)
	if err := tx.Bucket(bucketDue).Put(k, nil); err != nil {
		return err
	}
	if e.Attempts > 0 {
		if err := tx.Bucket(bucketRetry).Put(k, nil); err != nil {
			return err
		}
	}
	if e.Urgent {
		return tx.Bucket(bucketUrgent).Put(k, nil)
	}
	return nil
}

// deleteIndexes removes the index keys of a pending report.
func deleteIndexes(tx *bolt.Tx, e Entry) error {
	if err := deleteDueKeys(tx, e); err != nil {
		return err
	}
	return tx.Bucket(bucketReceived).Delete(receivedKey(e))
}

// deleteDueKeys removes the keys putDueKeys adds.
func deleteDueKeys(tx *bolt.Tx, e Entry) error {
	k := dueKey(e)
	for _, b := range [][]byte{bucketDue, bucketRetry, bucketUrgent} {
		if err := tx.Bucket(b).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// addRetryIndex creates the "retry" bucket in a file made before it
// existed, with a key for every pending report that failed before.
func addRetryIndex(tx *bolt.Tx) error {
	retry, err := tx.CreateBucket(bucketRetry)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketEntries).ForEach(func(k, v []byte) error {
		e, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("report %q: %w", k, err)
		}
		if e.Attempts == 0 {
			return nil
		}
		return retry.Put(dueKey(e), nil)
	})
}

// indexKey is an 8-byte big-endian time, the report's 8-byte big-endian
// body number (zero for a record that holds its body), and its id. Byte
// order is time order (for non-negative times), and reports of the same
// time come in the order they were stored. Reports are received many to
// the second, and bodies are numbered as they are stored, so the keys of
// a group of new reports are appended to each index, a leaf or two per
// commit. Ties broken by the random id instead (format 2) put each new
// key in a different leaf, and a commit rewrote a leaf of each index for
// every report.
func indexKey(t int64, ref uint64, id string) []byte {
	k := make([]byte, 16, 16+len(id))
	binary.BigEndian.PutUint64(k, uint64(t))
	binary.BigEndian.PutUint64(k[8:], ref)
	return append(k, id...)
}

// dueKey is a pending report's key in "due", "retry" and "urgent".
func dueKey(e Entry) []byte { return indexKey(e.NextAttempt.UnixNano(), e.bodyRef, e.ID) }

// receivedKey is a pending report's key in "received".
func receivedKey(e Entry) []byte { return indexKey(e.Received.Unix(), e.bodyRef, e.ID) }

// splitIndexKey parses an indexKey.
func splitIndexKey(k []byte) (int64, string, error) {
	if len(k) <= 16 || len(k) > 16+MaxIDLen || binary.BigEndian.Uint64(k) > math.MaxInt64 {
		return 0, "", fmt.Errorf("%w: bad index key %x", ErrCorrupt, k)
	}
	return int64(binary.BigEndian.Uint64(k)), string(k[16:]), nil
}

// indexKeyID returns the id an index key ends with, or "" if the key is
// too short to hold one.
func indexKeyID(k []byte) string {
	if len(k) <= 16 {
		return ""
	}
	return string(k[16:])
}

// rekeyIndexes rewrites the index keys of a file of format 2 or older,
// an 8-byte time followed by the id, as indexKey makes them: the body
// number comes from the record the key names. A key too short to be one
// is left as it is, for the checks that read it to report; one whose
// record is missing gets body number zero and still names its id.
//
// Each index is made afresh, its keys put in order, rather than changed
// key by key: for a spool of 100,000 pending reports, that took 1.1 s
// (87 MB of heap at most), against 19 s deleting and putting each key.
func rekeyIndexes(tx *bolt.Tx) error {
	entries := tx.Bucket(bucketEntries)
	for _, name := range [][]byte{bucketDue, bucketRetry, bucketUrgent, bucketReceived} {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		var keys [][]byte
		if err := b.ForEach(func(k, _ []byte) error {
			if len(k) > 8 {
				var ref uint64
				if entries != nil {
					if rec := entries.Get(k[8:]); rec != nil {
						ref, _ = bodyKeyOf(rec)
					}
				}
				k = indexKey(int64(binary.BigEndian.Uint64(k)), ref, string(k[8:]))
			} else {
				k = bytes.Clone(k)
			}
			keys = append(keys, k)
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(keys, bytes.Compare)
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
		b, err := tx.CreateBucket(name)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Put(k, nil); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

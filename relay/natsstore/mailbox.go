package natsstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/reportline/reportline/relay/mailbox"
)

// SeenFor is how long a replay mark is kept at most: a post's replay
// window (the relay refuses a post more than 15 minutes from its clock)
// must end within it.
const SeenFor = time.Hour

// Mailboxes keeps the hotlines' sealed replies to reporters in JetStream,
// shared by every relay on the cluster, so that a hotline's post and the
// reporter's fetch may reach different relays, and kept as reports are:
// on file storage, replicated, a write acknowledged by a quorum. It
// behaves as package relay/mailbox's file does (the same records, the
// same rules), with:
//
//   - the bucket N_mailbox: hotline "." mailbox id → a [mailbox.Record];
//     every change is a compare-and-set on the key's revision, so two
//     relays never overwrite each other's change; a mailbox left empty is
//     purged from the bucket's stream, leaving no marker under its key;
//     the bucket's age limit is the retention, a backstop to Sweep;
//   - the bucket N_mailbox_seen: an envelope's SHA-256 (hex) → 8-byte
//     big-endian Unix seconds until which a post of it is a replay; each
//     mark goes after SeenFor.
type Mailboxes struct {
	boxes     jetstream.KeyValue
	stream    jetstream.Stream // the boxes bucket's stream
	subject   string           // its subjects' prefix
	seen      jetstream.KeyValue
	retention time.Duration
	timeout   time.Duration
}

// OpenMailboxes makes the buckets if needed (and updates them to o and
// retention if they exist).
func OpenMailboxes(ctx context.Context, nc *nats.Conn, o Options, retention time.Duration) (*Mailboxes, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("open shared mailboxes: %w", err)
	}
	o.defaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open shared mailboxes: %w", err)
	}
	m := &Mailboxes{retention: retention, timeout: o.Timeout, subject: "$KV." + o.Name + "_mailbox."}
	m.boxes, err = bucket(ctx, js, o, "_mailbox", "sealed replies to reporters, by hotline and mailbox id", retention)
	if err == nil {
		if m.stream, err = js.Stream(ctx, "KV_"+o.Name+"_mailbox"); err != nil {
			err = fmt.Errorf("bucket %s_mailbox: %w", o.Name, err)
		}
	}
	if err == nil {
		m.seen, err = bucket(ctx, js, o, "_mailbox_seen", "sealed replies posted lately, refused if posted again", SeenFor)
	}
	if err != nil {
		return nil, fmt.Errorf("open shared mailboxes: %w", err)
	}
	return m, nil
}

// Retention is how long a reply is kept unread.
func (m *Mailboxes) Retention() time.Duration { return m.retention }

func boxKey(hotline, mailbox string) string { return hotline + "." + mailbox }

// get returns the stored value of a key and its revision; nil and 0 if
// there is none.
func (m *Mailboxes) get(key string) ([]byte, uint64, error) {
	var e jetstream.KeyValueEntry
	err := retry(m.timeout, func(ctx context.Context) (err error) { e, err = m.boxes.Get(ctx, key); return err })
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return e.Value(), e.Revision(), nil
}

// errRace: another relay changed the record first; read it again.
var errRace = errors.New("mailbox changed meanwhile")

// set writes v as the key's value if rev is still its revision (0: if it
// has none); an empty v removes the key's messages up to rev from the
// stream, leaving nothing under the key.
func (m *Mailboxes) set(key string, v []byte, rev uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	var err error
	switch {
	case v == nil:
		err = m.stream.Purge(ctx, jetstream.WithPurgeSubject(m.subject+key), jetstream.WithPurgeSequence(rev+1))
	case rev == 0:
		_, err = m.boxes.Create(ctx, key, v)
		if errors.Is(err, jetstream.ErrKeyExists) {
			err = errRace
		}
	default:
		_, err = m.boxes.Update(ctx, key, v, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			err = errRace
		}
	}
	return err
}

// change applies fn to a key's value until it is written without a race:
// fn returns the new value (nil to remove the record) and whether to
// write at all.
func (m *Mailboxes) change(key string, fn func(v []byte) ([]byte, bool, error)) error {
	for range 16 {
		v, rev, err := m.get(key)
		if err != nil {
			return err
		}
		nv, write, err := fn(v)
		if err != nil || !write {
			return err
		}
		if err = m.set(key, nv, rev); !errors.Is(err, errRace) {
			if err == nil && nv == nil {
				continue // read again: a post may have come after rev
			}
			return err
		}
	}
	return fmt.Errorf("%w, sixteen times", errRace)
}

// Put stores a sealed reply in a mailbox, as [mailbox.Store.Put] does.
func (m *Mailboxes) Put(hotline, mbox, check string, envelope []byte, now, replayUntil time.Time) error {
	c, err := mailbox.ParseCheck(check)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(envelope)
	seenKey := hex.EncodeToString(sum[:])
	var e jetstream.KeyValueEntry
	err = retry(m.timeout, func(ctx context.Context) (err error) { e, err = m.seen.Get(ctx, seenKey); return err })
	switch {
	case err == nil:
		if v := e.Value(); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= now.Unix() {
			return mailbox.ErrReplayed
		}
	case !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted):
		return fmt.Errorf("failed to store the reply: %w", err)
	}
	err = m.change(boxKey(hotline, mbox), func(v []byte) ([]byte, bool, error) {
		var old *mailbox.Record
		if v != nil {
			r, err := mailbox.Decode(v)
			if err != nil {
				return nil, false, err
			}
			old = &r
		}
		r, err := mailbox.Add(old, c, envelope, now, m.retention)
		return r.Encode(), err == nil, err
	})
	if err != nil {
		if errors.Is(err, mailbox.ErrFull) || errors.Is(err, mailbox.ErrCheck) || errors.Is(err, mailbox.ErrReplayed) {
			return err
		}
		return fmt.Errorf("failed to store the reply: %w", err)
	}
	// After the reply: a mark without it would refuse its post again.
	err = retry(m.timeout, func(ctx context.Context) error {
		_, err := m.seen.Put(ctx, seenKey, binary.BigEndian.AppendUint64(nil, uint64(replayUntil.Unix())))
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to mark the reply as posted: %w", err)
	}
	return nil
}

// Peek returns the replies in a mailbox if requestKey is its key, as
// [mailbox.Store.Peek] does: one read, whatever the key.
func (m *Mailboxes) Peek(hotline, mbox string, requestKey []byte, now time.Time) ([][]byte, error) {
	v, _, err := m.get(boxKey(hotline, mbox))
	if err != nil {
		return nil, fmt.Errorf("failed to read a mailbox: %w", err)
	}
	r, _, err := mailbox.Lookup(v, requestKey)
	if err != nil {
		return nil, fmt.Errorf("failed to read a mailbox: %w", err)
	}
	var out [][]byte
	for _, sl := range mailbox.Live(r.Slots, now, m.retention) {
		out = append(out, sl.Envelope)
	}
	return out, nil
}

// Ack removes the replies ids names, as [mailbox.Store.Ack] does: it
// writes only when requestKey is the mailbox's and an id names a reply it
// holds.
func (m *Mailboxes) Ack(hotline, mbox string, requestKey []byte, ids []string, now time.Time) error {
	err := m.change(boxKey(hotline, mbox), func(v []byte) ([]byte, bool, error) {
		r, ok, err := mailbox.Lookup(v, requestKey)
		if !ok {
			return nil, false, err
		}
		var drop bool
		r.Slots, drop = mailbox.Without(r.Slots, ids, now, m.retention)
		return encodeOrNil(r), drop, nil
	})
	if err != nil {
		return fmt.Errorf("failed to remove read replies: %w", err)
	}
	return nil
}

func encodeOrNil(r mailbox.Record) []byte {
	if len(r.Slots) == 0 {
		return nil
	}
	return r.Encode()
}

// keys lists the bucket's keys.
func (m *Mailboxes) keys() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	keys, err := m.boxes.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	return keys, err
}

// Sweep removes replies older than the retention and returns how many it
// removed. Several relays may sweep at once: each change is
// compare-and-set.
func (m *Mailboxes) Sweep(now time.Time) (int, error) {
	keys, err := m.keys()
	if err != nil {
		return 0, fmt.Errorf("failed to sweep the mailboxes: %w", err)
	}
	removed := 0
	for _, key := range keys {
		n := 0
		err := m.change(key, func(v []byte) ([]byte, bool, error) {
			if v == nil {
				return nil, false, nil
			}
			r, err := mailbox.Decode(v)
			if err != nil {
				return nil, false, fmt.Errorf("%w: %q", err, key)
			}
			live := mailbox.Live(r.Slots, now, m.retention)
			n = len(r.Slots) - len(live)
			r.Slots = live
			return encodeOrNil(r), n > 0, nil
		})
		if err != nil {
			return removed, fmt.Errorf("failed to sweep the mailboxes: %w", err)
		}
		removed += n
	}
	return removed, nil
}

// Count returns how many replies wait in the buckets.
func (m *Mailboxes) Count() (int, error) {
	keys, err := m.keys()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range keys {
		v, _, err := m.get(key)
		if err != nil {
			return 0, err
		}
		n += mailbox.Count(v)
	}
	return n, nil
}

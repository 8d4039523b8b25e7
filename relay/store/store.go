// Package store names what the relay asks of its durable store of
// reports, so that either of its two implementations can hold them: the
// embedded bbolt file of package relay/spool (the default: one relay, one
// disk, no other service) or a replicated NATS JetStream stream shared by
// several relays (package relay/natsstore; see docs/scaling.md).
//
// Both keep the same promises: a report is acknowledged to the browser
// only once Put returned nil, which means it is on disk (bbolt: fsynced;
// JetStream: written and acknowledged by a quorum of its replicas); it
// leaves the store only by Delete after the intake answered 2xx, or by an
// operator's Purge of a dead report (or of one whose record is corrupt);
// the report id is the idempotency key end to end.
package store

import (
	"time"

	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/spool"
)

// Store is a durable store of encrypted reports waiting for delivery.
// [spool.Spool] and [natsstore.Store] implement it.
//
// [natsstore.Store]: https://pkg.go.dev/github.com/reportline/reportline/relay/natsstore#Store
type Store interface {
	// Accepting reports (the relay's HTTP edge).
	Acceptor
	// Delivering them (the forwarder).
	forward.Store
	// Operating the store (`relay spool`, metrics).
	Operator
	// Close releases the store; every successful write is already durable.
	Close() error
}

// Acceptor is what the relay's HTTP edge needs: store a report durably
// before answering, and tell the readiness check whether it can.
type Acceptor interface {
	// Put stores a new report, idempotently by id: the same report again
	// returns the stored one with created false; another report under the
	// same id fails with an error wrapping [spool.ErrConflict].
	Put(e spool.Entry) (stored spool.Entry, created bool, err error)
	// Writable returns an error if a Put would fail now.
	Writable() error
}

// Operator is what `relay spool ls|retry|purge` and the metrics need.
type Operator interface {
	// Get returns a pending or dead report, or an error wrapping
	// [spool.ErrNotFound].
	Get(id string) (spool.Entry, error)
	// Due returns up to limit (all if zero) pending reports due at now.
	Due(now time.Time, limit int) ([]spool.Entry, error)
	// Dead returns the reports in the dead-letter area.
	Dead() ([]spool.Entry, error)
	// Revive moves a dead report back to pending, due at now.
	Revive(id string, now time.Time) error
	// Purge deletes a dead report for good.
	Purge(id string) error
	// Stats counts pending and dead reports.
	Stats() (spool.Stats, error)
}

// Compactor is a store whose file can be shrunk after a backlog drained;
// only the bbolt spool is one.
type Compactor interface {
	Compact() (before, after int64, err error)
}

// CorruptLister is a store that passes over records it cannot read (a
// disk damaged them) and names them, so that one damaged record does not
// stop the others' delivery; only the bbolt spool is one.
type CorruptLister interface {
	Corrupt() map[string]string
}

// CorruptPurger is a store that can remove a record it cannot read, with
// whatever else in it names that record; only the bbolt spool is one.
type CorruptPurger interface {
	PurgeCorrupt(id string) (spool.CorruptPurge, error)
}

var _ Store = (*spool.Spool)(nil)
var _ CorruptLister = (*spool.Spool)(nil)
var _ CorruptPurger = (*spool.Spool)(nil)

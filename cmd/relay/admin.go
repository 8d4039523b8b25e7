package main

import (
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
)

// The spool's operations, shared by `relay spool` and the admin socket:
// done on the spool file when the relay is stopped (fileOps, here), or
// through the running relay's admin socket (socketOps, adminclient.go),
// which the relay serves with fileOps (adminserver.go).

// entryView is what `relay spool ls` shows of a report: never its body.
type entryView struct {
	ID          string    `json:"id"`
	State       string    `json:"state"` // "pending", "dead", or "corrupt" (a record that no longer decodes)
	Hotline     string    `json:"hotline"`
	Site        string    `json:"site"`
	Received    time.Time `json:"received"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// Urgent: the form marked the report urgent, and it is delivered
	// ahead of the others.
	Urgent bool `json:"urgent,omitempty"`
}

func view(e spool.Entry) entryView {
	v := entryView{ID: e.ID, State: "pending", Hotline: e.Hotline, Site: e.Site, Received: e.Received,
		Attempts: e.Attempts, NextAttempt: e.NextAttempt, LastError: e.LastError, Urgent: e.Urgent}
	if e.Dead {
		v.State, v.NextAttempt = "dead", time.Time{}
	}
	return v
}

// spoolOps are the operator's actions on the spool, done either on the
// file (relay stopped) or through the admin socket (relay running).
type spoolOps interface {
	List() ([]entryView, error)
	// Retry makes a pending report due now, or revives a dead one.
	Retry(id string) (entryView, error)
	RetryAllDead() (int, error)
	// Purge deletes a dead report, or one whose record is corrupt.
	Purge(id string) (purged, error)
	// Compact gives the disk back that a drained backlog left in the file.
	Compact() (compacted, error)
	Close() error
}

// compacted is the spool file's size before and after a compaction.
type compacted struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
}

// purged is what a purge removed: a dead report, or a report whose record
// is corrupt, with what went with it.
type purged struct {
	entryView
	Corrupt *corruptPurge `json:"corrupt,omitempty"`
}

// corruptPurge is [spool.CorruptPurge] as the admin socket sends it.
type corruptPurge struct {
	Dead      bool `json:"dead,omitempty"`
	IndexKeys int  `json:"index_keys"`
	Bodies    int  `json:"bodies"`
	BodyLeft  bool `json:"body_left,omitempty"`
}

// errNotDead means purge was asked for a report that is pending.
var errNotDead = errors.New("report is pending, not dead: only dead reports, and reports whose records are corrupt, can be purged")

// errNoCorruptPurge means purge was asked to remove a record a store that
// is not a bbolt spool could not read.
var errNoCorruptPurge = errors.New("this store cannot remove a record it cannot read: only relay.store = \"bbolt\" can")

// errNoCompact means compact was asked of a store that has no file.
var errNoCompact = errors.New("this store has no file to compact: only relay.store = \"bbolt\" does")

// fileOps acts on the spool file directly.
type fileOps struct {
	sp     store.Store
	notify func()
}

func (o fileOps) Close() error { return o.sp.Close() }

func (o fileOps) List() ([]entryView, error) {
	pending, err := o.sp.Due(time.Unix(1<<62, 0), 0)
	if err != nil {
		return nil, err
	}
	dead, err := o.sp.Dead()
	if err != nil {
		return nil, err
	}
	out := make([]entryView, 0, len(pending)+len(dead))
	for _, e := range append(pending, dead...) {
		out = append(out, view(e))
	}
	// The records the two lists above passed over.
	if c, ok := o.sp.(store.CorruptLister); ok {
		corrupt := c.Corrupt()
		for _, id := range slices.Sorted(maps.Keys(corrupt)) {
			out = append(out, entryView{ID: id, State: "corrupt", LastError: corrupt[id]})
		}
	}
	return out, nil
}

func (o fileOps) Retry(id string) (entryView, error) {
	e, err := o.sp.Get(id)
	if err != nil {
		return entryView{}, err
	}
	if e.Dead {
		err = o.sp.Revive(id, time.Now())
	} else {
		err = o.sp.Reschedule(id, time.Now(), e.LastError)
	}
	if err != nil {
		return entryView{}, err
	}
	o.notify()
	e, err = o.sp.Get(id)
	return view(e), err
}

func (o fileOps) RetryAllDead() (int, error) {
	dead, err := o.sp.Dead()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range dead {
		if err := o.sp.Revive(e.ID, time.Now()); err != nil {
			return n, err
		}
		n++
	}
	o.notify()
	return n, nil
}

func (o fileOps) Purge(id string) (purged, error) {
	e, err := o.sp.Get(id)
	if cp, ok := o.sp.(store.CorruptPurger); ok && errors.Is(err, spool.ErrCorrupt) {
		p, err := cp.PurgeCorrupt(id)
		if err != nil {
			return purged{}, err
		}
		c := corruptPurge(p)
		return purged{entryView: entryView{ID: id, State: "corrupt"}, Corrupt: &c}, nil
	}
	if err != nil {
		return purged{}, err
	}
	if !e.Dead {
		return purged{entryView: view(e)}, errNotDead
	}
	return purged{entryView: view(e)}, o.sp.Purge(id)
}

func (o fileOps) Compact() (compacted, error) {
	c, ok := o.sp.(store.Compactor)
	if !ok {
		return compacted{}, errNoCompact
	}
	before, after, err := c.Compact()
	return compacted{before, after}, err
}

package pow

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrInUse is a proof of work that another request is using right now:
// a proof is used by one request at a time, so that one solved challenge
// cannot hold more than one of the relay's report slots.
var ErrInUse = errors.New("proof of work in use by another request")

// ReplayStore remembers, in memory only, which report each proof of work
// admitted, until the proof expires: a proof admits one report id, and the
// same report sent again (a retry after a lost answer) with it.
//
// It is bounded: when it holds capacity proofs that have not expired,
// [ReplayStore.Redeem] refuses new ones with [ErrReplayFull] rather than
// forget a live one, which would let it be replayed. Each entry costs about
// 100 bytes.
type ReplayStore struct {
	mu        sync.Mutex
	capacity  int
	spent     map[[32]byte]spent
	lastSweep time.Time
}

type spent struct {
	report  string
	expires time.Time
	inUse   bool // a request holds it (Reserve), until it lets go
}

// NewReplayStore returns an empty store for at most capacity live proofs.
func NewReplayStore(capacity int) *ReplayStore {
	return &ReplayStore{capacity: capacity, spent: make(map[[32]byte]spent)}
}

// Redeem spends p on the report with the given id. It fails with
// [ErrReplayed] if p was spent on another report, [ErrInUse] if a request
// holds it, and [ErrReplayFull] if the store is full. now is the current
// time.
func (r *ReplayStore) Redeem(p Proof, report string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.redeem(p, report, now, false)
}

// Reserve spends p on the report with the given id, as Redeem does, and
// holds it for the calling request until it calls done: while it is
// held, every other request with p fails with [ErrInUse], even one for
// the same report. The relay reserves a proof before it reads a body, so
// that one proof holds at most one body slot however many connections
// carry it.
//
// The proof stays spent on that report after done, whatever became of the
// request: it can still admit the same report again (a retry, or a body
// sent again after an error), never another one.
func (r *ReplayStore) Reserve(p Proof, report string, now time.Time) (done func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.redeem(p, report, now, true); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if s, ok := r.spent[p.ID]; ok {
				s.inUse = false
				r.spent[p.ID] = s
			}
		})
	}, nil
}

// redeem is Redeem, and Reserve if hold is set; r.mu is held.
func (r *ReplayStore) redeem(p Proof, report string, now time.Time, hold bool) error {
	if s, ok := r.spent[p.ID]; ok && now.Before(s.expires) {
		switch {
		case s.report != report:
			return ErrReplayed
		case s.inUse:
			return ErrInUse
		}
		if hold {
			s.inUse = true
			r.spent[p.ID] = s
		}
		return nil
	}
	if !now.Before(p.Expires) {
		return ErrExpired
	}
	full := len(r.spent) >= r.capacity
	if since := now.Sub(r.lastSweep); since >= 10*time.Second || (full && since >= time.Second) {
		r.sweep(now)
	}
	if len(r.spent) >= r.capacity {
		return fmt.Errorf("%w: %d live proofs", ErrReplayFull, len(r.spent))
	}
	r.spent[p.ID] = spent{report: report, expires: p.Expires, inUse: hold}
	return nil
}

// Len returns how many proofs the store holds.
func (r *ReplayStore) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spent)
}

// sweep drops expired proofs. Redeem runs it every ten seconds, or every
// second while the store is full, so that a flood against a full store
// cannot make every request pay for a scan.
func (r *ReplayStore) sweep(now time.Time) {
	for id, s := range r.spent {
		if !now.Before(s.expires) && !s.inUse {
			delete(r.spent, id)
		}
	}
	r.lastSweep = now
}

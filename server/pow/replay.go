package pow

import (
	"fmt"
	"sync"
	"time"
)

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
}

// NewReplayStore returns an empty store for at most capacity live proofs.
func NewReplayStore(capacity int) *ReplayStore {
	return &ReplayStore{capacity: capacity, spent: make(map[[32]byte]spent)}
}

// Redeem spends p on the report with the given id. It fails with
// [ErrReplayed] if p was spent on another report, and with [ErrReplayFull]
// if the store is full. now is the current time.
func (r *ReplayStore) Redeem(p Proof, report string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.spent[p.ID]; ok && now.Before(s.expires) {
		if s.report != report {
			return ErrReplayed
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
	r.spent[p.ID] = spent{report: report, expires: p.Expires}
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
		if !now.Before(s.expires) {
			delete(r.spent, id)
		}
	}
	r.lastSweep = now
}

package spool

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Group commit: the writes that arrive while one transaction is being
// committed wait and then share the next transaction, and so its one
// fsync. A lone write is committed at once, without waiting for company,
// and every caller returns only after its write is on disk.

// maxGather bounds how long a write waits for company before its commit
// starts; see gather.
const maxGather = 2 * time.Millisecond

// maxGroup bounds the writes committed in one transaction, so that one
// commit's latency stays bounded under any load.
const maxGroup = 256

// groupOp is one write waiting for a group commit.
type groupOp struct {
	fn   func(tx *bolt.Tx) error
	done chan error
}

// opFailed marks an error returned by an operation (not by the commit),
// so the group can be retried without it.
type opFailed struct {
	op  *groupOp
	err error
}

func (e *opFailed) Error() string { return e.err.Error() }

// committer runs the group commit loop of one spool.
type committer struct {
	sp   *Spool
	ops  chan *groupOp
	mu   sync.RWMutex // held for reading while queuing, for writing by stop
	shut bool
	quit chan struct{}
	done chan struct{}
	// commits counts the transactions committed, and waiting the writes
	// waiting for one, for tests.
	commits atomic.Uint64
	waiting atomic.Int64
}

func newCommitter(sp *Spool) *committer {
	c := &committer{sp: sp, ops: make(chan *groupOp, maxGroup), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// do runs fn in a write transaction shared with other writes under way,
// and returns once that transaction is committed and fsynced, or failed.
// fn may run more than once (alone, if another write of its group
// failed), so it must set its results afresh each time.
func (c *committer) do(fn func(tx *bolt.Tx) error) error {
	op := &groupOp{fn: fn, done: make(chan error, 1)}
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	c.mu.RLock()
	if c.shut {
		c.mu.RUnlock()
		return ErrClosed
	}
	c.ops <- op
	c.mu.RUnlock()
	return <-op.done
}

// stop commits the writes already queued and ends the loop.
func (c *committer) stop() {
	c.mu.Lock()
	c.shut = true
	c.mu.Unlock()
	close(c.quit)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	var last int           // the size of the last group
	var took time.Duration // how long its commit took
	for {
		var first *groupOp
		select {
		case first = <-c.ops:
		case <-c.quit:
			// do no longer queues; commit what is left.
			for {
				select {
				case op := <-c.ops:
					c.commit([]*groupOp{op})
				default:
					return
				}
			}
		}
		group := c.gather(first, last, took)
		start := time.Now()
		c.commit(group)
		last, took = len(group), time.Since(start)
		c.sp.compactIfDrained(start)
	}
}

// gather adds to first the writes already waiting. After a commit of a
// large group, its writers come back together: the first to arrive would
// otherwise be committed alone, and the rest wait behind that commit. So
// when the last group was large, gather waits a little (at most a quarter
// of the last commit's time, and never more than maxGather) for as many
// writes as that group held.
func (c *committer) gather(first *groupOp, last int, took time.Duration) []*groupOp {
	group := []*groupOp{first}
	for len(group) < maxGroup {
		select {
		case op := <-c.ops:
			group = append(group, op)
			continue
		default:
		}
		break
	}
	if last < 2 || len(group) >= last {
		return group
	}
	t := time.NewTimer(min(took/4, maxGather))
	defer t.Stop()
	for len(group) < min(last, maxGroup) {
		select {
		case op := <-c.ops:
			group = append(group, op)
		case <-t.C:
			return group
		}
	}
	return group
}

func (c *committer) commit(group []*groupOp) {
	c.sp.dbMu.RLock()
	defer c.sp.dbMu.RUnlock()
	db := c.sp.db
	if db == nil {
		for _, op := range group {
			op.done <- ErrClosed
		}
		return
	}
	err := c.sp.commit(db, func(tx *bolt.Tx) error {
		for _, op := range group {
			if err := op.fn(tx); err != nil {
				return &opFailed{op: op, err: err}
			}
		}
		return nil
	})
	c.commits.Add(1)
	var failed *opFailed
	if errors.As(err, &failed) && len(group) > 1 {
		for _, op := range group {
			c.commits.Add(1)
			op.done <- c.sp.commit(db, op.fn)
		}
		return
	}
	if failed != nil {
		err = failed.err
	}
	for _, op := range group {
		op.done <- err
	}
}

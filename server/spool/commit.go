package spool

import (
	"errors"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// Group commit: the writes that arrive while one transaction is being
// committed wait and then share the next transaction, and so its one
// fsync. A lone write is committed at once, without waiting for company,
// and every caller returns only after its write is on disk.

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
	db   *bolt.DB
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

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db, ops: make(chan *groupOp, maxGroup), quit: make(chan struct{}), done: make(chan struct{})}
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
		group := []*groupOp{first}
	gather:
		for len(group) < maxGroup {
			select {
			case op := <-c.ops:
				group = append(group, op)
			default:
				break gather
			}
		}
		c.commit(group)
	}
}

// commit runs a group in one transaction. If one of its writes fails, the
// transaction is rolled back and every write is run again on its own, so
// that one write's error is never another's.
func (c *committer) commit(group []*groupOp) {
	err := c.db.Update(func(tx *bolt.Tx) error {
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
			op.done <- c.db.Update(op.fn)
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

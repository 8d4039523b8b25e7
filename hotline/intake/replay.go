package intake

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// maxReplayEntries bounds the replay cache. A hotline receives far fewer
// deliveries than this within a timestamp tolerance; past it the oldest
// are forgotten first, and a delivery that old is refused as stale anyway
// once its timestamp leaves the tolerance.
const maxReplayEntries = 100_000

// replayCache remembers the signed deliveries accepted within the
// timestamp tolerance, so that a captured delivery cannot be sent again
// while its timestamp still passes. Older ones need no memory: Verify
// refuses them as stale.
//
// A delivery is known by what its signature covers and a replay cannot
// change: the message id, the signed timestamp, and the attempt time in
// the signed body, which the relay sets to the nanosecond. The signature
// header itself is no key: entries can be added to it (Verify skips
// unknown versions) without changing the delivery.
type replayCache struct {
	mu    sync.Mutex
	seen  map[[32]byte]time.Time // hash of id, timestamp, attempt time → expiry
	order [][32]byte             // insertion order, for pruning
}

// first records a delivery and reports whether it is the first time it is
// seen within tol of now.
func (c *replayCache) first(id string, ts, attempt time.Time, now time.Time, tol time.Duration) bool {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(ts.Unix())))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(attempt.UnixNano())))
	var k [32]byte
	h.Sum(k[:0])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[[32]byte]time.Time{}
	}
	c.prune(now)
	if exp, ok := c.seen[k]; ok && now.Before(exp) {
		return false
	}
	// The delivery passes Verify until ts+tol; remember it that long.
	c.seen[k] = ts.Add(tol + time.Second)
	c.order = append(c.order, k)
	return true
}

// prune forgets expired entries, oldest first, and the oldest beyond the
// bound.
func (c *replayCache) prune(now time.Time) {
	n := 0
	for n < len(c.order) {
		k := c.order[n]
		exp, ok := c.seen[k]
		if ok && now.Before(exp) && len(c.order)-n <= maxReplayEntries {
			break
		}
		delete(c.seen, k)
		n++
	}
	c.order = c.order[n:]
}

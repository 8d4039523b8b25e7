// Package ratelimit limits how often clients may call the relay, in
// memory only and without keeping who they are, as described in
// docs/abuse.md.
//
// A client is known by HMAC-SHA-256 of its address (its /64 network for
// IPv6) under a secret that is made at random, never leaves the process,
// and is replaced every rotation period; the previous secret is kept for
// one more period so that a client's allowance carries over. After two
// periods nothing links a key to an address any more, not even for the
// process itself. The address is never stored: only the truncated hash.
package ratelimit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"net/netip"
	"sync"
	"time"
)

// Rate is a sustained rate with a burst: a token bucket that holds Burst
// tokens and gains PerMinute of them a minute.
type Rate struct {
	PerMinute float64
	Burst     int
}

// bucket is a token bucket's state.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills b to now and takes a token if there is one; otherwise it
// returns how long until there will be.
func (b *bucket) take(r Rate, now time.Time) (bool, time.Duration) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(float64(r.Burst), b.tokens+el.Minutes()*r.PerMinute)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / r.PerMinute * float64(time.Minute))
	return false, max(wait, time.Second)
}

// full reports whether b would be full at now: it then holds nothing a
// fresh bucket would not.
func (b *bucket) full(r Rate, now time.Time) bool {
	return b.tokens+now.Sub(b.last).Minutes()*r.PerMinute >= float64(r.Burst)
}

// Bucket is one token bucket shared by every client: a global ceiling.
type Bucket struct {
	mu   sync.Mutex
	rate Rate
	b    bucket
	now  func() time.Time
}

// NewBucket returns a full bucket.
func NewBucket(r Rate) *Bucket {
	return &Bucket{rate: r, b: bucket{tokens: float64(r.Burst), last: time.Now()}, now: time.Now}
}

// Take takes a token, or returns false and how long to wait for one.
func (b *Bucket) Take() (ok bool, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.take(b.rate, b.now())
}

// Gate bounds how many requests are served at once.
type Gate struct{ slots chan struct{} }

// NewGate returns a gate for n requests at once.
func NewGate(n int) *Gate { return &Gate{slots: make(chan struct{}, n)} }

// TryEnter takes a place if one is free, without waiting.
func (g *Gate) TryEnter() bool {
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Leave gives back a place taken by TryEnter.
func (g *Gate) Leave() { <-g.slots }

// KeyLen is the length of a client key: a truncated HMAC-SHA-256.
const KeyLen = 16

type key [KeyLen]byte

// generation is the clients seen under one secret.
type generation struct {
	mac     hash.Hash
	buckets map[key]bucket
}

func newGeneration() *generation {
	secret := make([]byte, 32)
	rand.Read(secret)
	return &generation{mac: hmac.New(sha256.New, secret), buckets: make(map[key]bucket)}
}

// key is the client key of addr's network of the given prefix length:
// the keyed hash of the masked address and of the length, so that a
// network and its first address have different keys.
func (g *generation) key(addr netip.Addr, bits int) key {
	p, _ := addr.Unmap().Prefix(bits)
	b := p.Addr().As16()
	g.mac.Reset()
	g.mac.Write(b[:])
	g.mac.Write([]byte{byte(bits)})
	var k key
	copy(k[:], g.mac.Sum(nil))
	return k
}

// clientBits is how much of an address names one client: all of an IPv4
// address; for IPv6 the /64 network, since one subscriber usually holds a
// whole /64.
func clientBits(addr netip.Addr) int {
	if addr.Unmap().Is4() {
		return 32
	}
	return 64
}

// Clients is a token bucket per client, keyed by a rotating keyed hash of
// the client's address.
type Clients struct {
	mu        sync.Mutex
	rate      Rate
	rotation  time.Duration
	max       int
	cur, prev *generation
	rotated   time.Time
	lastSweep time.Time
	now       func() time.Time
}

// NewClients returns per-client limits at rate, for at most max clients
// at a time, whose secret is replaced every rotation.
func NewClients(r Rate, rotation time.Duration, max int) *Clients {
	now := time.Now()
	return &Clients{rate: r, rotation: rotation, max: max, cur: newGeneration(), rotated: now, now: time.Now}
}

// SetClock replaces the clock; for tests.
func (c *Clients) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.rotated, c.lastSweep = now, now(), time.Time{}
}

// Take takes a token from the client's bucket, or returns false and how
// long it should wait. When as many clients as allowed have a partly used
// bucket, a new client is refused too: the relay then protects itself
// before it protects fairness.
func (c *Clients) Take(addr netip.Addr) (ok bool, retryAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.rotate(now)
	k := c.cur.key(addr, clientBits(addr))
	b, found := c.cur.buckets[k]
	if !found && c.prev != nil {
		pk := c.prev.key(addr, clientBits(addr))
		if b, found = c.prev.buckets[pk]; found {
			delete(c.prev.buckets, pk)
		}
	}
	if !found {
		if !c.room(now) {
			return false, time.Second
		}
		b = bucket{tokens: float64(c.rate.Burst), last: now}
	}
	ok, retryAfter = b.take(c.rate, now)
	c.cur.buckets[k] = b
	return ok, retryAfter
}

// Len returns how many clients are remembered.
func (c *Clients) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.cur.buckets)
	if c.prev != nil {
		n += len(c.prev.buckets)
	}
	return n
}

// rotate replaces the secret once a period has passed, forgetting the
// one before it; after two periods without a request both go.
func (c *Clients) rotate(now time.Time) {
	switch el := now.Sub(c.rotated); {
	case el >= 2*c.rotation:
		c.cur, c.prev, c.rotated = newGeneration(), nil, now
	case el >= c.rotation:
		c.cur, c.prev, c.rotated = newGeneration(), c.cur, c.rotated.Add(c.rotation)
	}
}

// room makes room for a new client if it can: first by forgetting the
// previous generation, then, at most once a second, by forgetting clients
// whose bucket has filled up again.
func (c *Clients) room(now time.Time) bool {
	n := len(c.cur.buckets)
	if c.prev != nil {
		n += len(c.prev.buckets)
	}
	if n < c.max {
		return true
	}
	if c.prev != nil {
		c.prev = nil
		if len(c.cur.buckets) < c.max {
			return true
		}
	}
	if now.Sub(c.lastSweep) < time.Second {
		return false
	}
	c.lastSweep = now
	for k, b := range c.cur.buckets {
		if b.full(c.rate, now) {
			delete(c.cur.buckets, k)
		}
	}
	return len(c.cur.buckets) < c.max
}

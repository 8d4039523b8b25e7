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
//
// A flood cannot lock new clients out: when as many clients are
// remembered as allowed, the least recently seen is forgotten; and an
// IPv6 prefix from which many networks flood becomes one client.
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

// AggregateAfter is how many client entries may be made under one wider
// IPv6 prefix, within one key rotation, before that whole prefix counts
// as one client: 64 /64 networks in a /48, or 64 flooding /48s in a /32.
// An IPv6 sender holds far more addresses than one client's share; a
// prefix that floods shares one allowance instead of taking
// a fresh one for each of its networks.
const AggregateAfter = 64

// entry is one client's bucket, in its generation's recency list.
type entry struct {
	k          key
	b          bucket
	prev, next *entry // towards the most and the least recently used
}

// generation is the clients seen under one secret, most recently used
// first.
type generation struct {
	mac     hash.Hash
	entries map[key]*entry
	head    entry       // sentinel: head.next is the most recent, head.prev the least
	tally   map[key]int // per wider IPv6 prefix: entries made under it
}

func newGeneration() *generation {
	secret := make([]byte, 32)
	rand.Read(secret)
	g := &generation{mac: hmac.New(sha256.New, secret), entries: make(map[key]*entry), tally: make(map[key]int)}
	g.head.prev, g.head.next = &g.head, &g.head
	return g
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

func (g *generation) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (g *generation) pushFront(e *entry) {
	e.prev, e.next = &g.head, g.head.next
	g.head.next.prev = e
	g.head.next = e
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

// widerBits are the IPv6 prefixes that may become one client when they
// flood, narrowest first.
var widerBits = [...]int{48, 32}

// Clients is a token bucket per client, keyed by a rotating keyed hash of
// the client's address. It remembers at most max clients: a new client
// makes the least recently seen one forgotten, so that a flood from many
// addresses can never keep a new sender out. A forgotten client starts
// again with a full bucket, as a new one does; a sender with more
// addresses than max could have that anyway.
//
// An IPv6 prefix that floods becomes one client: once AggregateAfter
// entries were made under one /48 in a rotation period, the whole /48
// shares one bucket, which starts empty; and likewise a /32 once
// AggregateAfter of its /48s have.
type Clients struct {
	mu        sync.Mutex
	rate      Rate
	rotation  time.Duration
	max       int
	cur, prev *generation
	rotated   time.Time
	now       func() time.Time
}

// NewClients returns per-client limits at rate, for at most max clients
// at a time, whose secret is replaced every rotation.
func NewClients(r Rate, rotation time.Duration, maxClients int) *Clients {
	now := time.Now()
	return &Clients{rate: r, rotation: rotation, max: max(maxClients, 1), cur: newGeneration(), rotated: now, now: time.Now}
}

// SetClock replaces the clock; for tests.
func (c *Clients) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.rotated = now, now()
}

// Take takes a token from the client's bucket, or returns false and how
// long it should wait.
func (c *Clients) Take(addr netip.Addr) (ok bool, retryAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.rotate(now)
	e := c.client(addr, now)
	return e.b.take(c.rate, now)
}

// client returns addr's entry, made if need be: the entry of the widest
// prefix of addr that is one client, else of addr's own network.
func (c *Clients) client(addr netip.Addr, now time.Time) *entry {
	own := clientBits(addr)
	if own == 64 {
		for i := len(widerBits) - 1; i >= 0; i-- {
			if e := c.find(addr, widerBits[i]); e != nil {
				return e
			}
		}
	}
	if e := c.find(addr, own); e != nil {
		return e
	}
	e := c.add(c.cur.key(addr, own), bucket{tokens: float64(c.rate.Burst), last: now})
	if own == 64 {
		c.tallyUnder(addr, now)
	}
	return e
}

// tallyUnder counts a new entry under addr's wider prefixes, and makes a
// prefix one client when it has had too many.
func (c *Clients) tallyUnder(addr netip.Addr, now time.Time) {
	g := c.cur
	if len(g.tally) >= c.max {
		clear(g.tally) // bounded like the entries; only hints are lost
	}
	for _, bits := range widerBits {
		k := g.key(addr, bits)
		if g.tally[k]++; g.tally[k] < AggregateAfter {
			return
		}
		// The prefix floods: from now on it is one client, with an empty
		// bucket, and it counts towards the next wider prefix.
		c.add(k, bucket{last: now})
	}
}

// find returns the entry of addr's prefix of the given length, as the
// most recently used, or nil. An entry of the previous generation moves
// to the current one, under its new key.
func (c *Clients) find(addr netip.Addr, bits int) *entry {
	k := c.cur.key(addr, bits)
	if e, ok := c.cur.entries[k]; ok {
		c.cur.unlink(e)
		c.cur.pushFront(e)
		return e
	}
	if c.prev == nil {
		return nil
	}
	pk := c.prev.key(addr, bits)
	e, ok := c.prev.entries[pk]
	if !ok {
		return nil
	}
	c.prev.unlink(e)
	delete(c.prev.entries, pk)
	return c.add(k, e.b)
}

// add remembers a new client, forgetting the least recently used ones,
// the previous generation's first, if there is no room.
func (c *Clients) add(k key, b bucket) *entry {
	for c.count() >= c.max {
		g := c.prev
		if g == nil || len(g.entries) == 0 {
			g = c.cur
		}
		old := g.head.prev
		g.unlink(old)
		delete(g.entries, old.k)
	}
	e := &entry{k: k, b: b}
	c.cur.entries[k] = e
	c.cur.pushFront(e)
	return e
}

func (c *Clients) count() int {
	n := len(c.cur.entries)
	if c.prev != nil {
		n += len(c.prev.entries)
	}
	return n
}

// Len returns how many clients are remembered.
func (c *Clients) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count()
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

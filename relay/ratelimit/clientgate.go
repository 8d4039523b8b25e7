package ratelimit

import (
	"net/netip"
	"sync"
)

// ClientGate bounds how many requests each client has under way at once,
// so that one sender cannot hold every place of a [Gate]. A client is
// known as [Clients] knows it, by a keyed hash of its address (its /64
// network for IPv6), and is remembered only while it has a request under
// way.
type ClientGate struct {
	mu  sync.Mutex
	per int
	gen *generation // its secret is never replaced: a key lives for one request
	n   map[key]int
}

// NewClientGate returns a gate for at most per requests at once from each
// client.
func NewClientGate(per int) *ClientGate {
	return &ClientGate{per: per, gen: newGeneration(), n: make(map[key]int)}
}

// TryEnter takes a place for the client at addr if it has one free,
// without waiting. leave gives the place back; call it once.
func (g *ClientGate) TryEnter(addr netip.Addr) (leave func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.gen.key(addr, clientBits(addr))
	if g.n[k] >= g.per {
		return nil, false
	}
	g.n[k]++
	var once sync.Once
	return func() { once.Do(func() { g.leave(k) }) }, true
}

func (g *ClientGate) leave(k key) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[k]--; g.n[k] <= 0 {
		delete(g.n, k)
	}
}

// Len returns how many clients have a request under way.
func (g *ClientGate) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.n)
}

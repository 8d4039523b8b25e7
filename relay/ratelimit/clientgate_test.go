package ratelimit

import (
	"net/netip"
	"testing"
)

// TestClientGate: each client has its own places; an IPv6 /64 is one
// client; a place given back can be taken again, and a client with none
// under way is forgotten.
func TestClientGate(t *testing.T) {
	g := NewClientGate(2)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	l1, ok1 := g.TryEnter(a)
	l2, ok2 := g.TryEnter(netip.MustParseAddr("::ffff:192.0.2.1"))
	if _, ok3 := g.TryEnter(a); !ok1 || !ok2 || ok3 {
		t.Fatalf("client a: %v %v %v, want two places and no third", ok1, ok2, ok3)
	}
	if _, ok := g.TryEnter(b); !ok {
		t.Fatal("client b is refused because of a")
	}
	l1()
	l1() // twice: gives back one place only
	if _, ok := g.TryEnter(a); !ok {
		t.Fatal("a place given back cannot be taken")
	}
	if _, ok := g.TryEnter(a); ok {
		t.Fatal("leave gave back more than one place")
	}
	l2()
	c1 := netip.MustParseAddr("2001:db8:1:2::1")
	g.TryEnter(c1)
	g.TryEnter(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	if _, ok := g.TryEnter(netip.MustParseAddr("2001:db8:1:2::77")); ok {
		t.Fatal("a third address in the same /64 got a place")
	}
	if _, ok := g.TryEnter(netip.MustParseAddr("2001:db8:1:3::1")); !ok {
		t.Fatal("another /64 is refused")
	}
	lb, _ := g.TryEnter(netip.MustParseAddr("198.51.100.1"))
	n := g.Len()
	lb()
	if g.Len() != n-1 {
		t.Fatalf("a client with nothing under way is still remembered: %d, then %d", n, g.Len())
	}
}

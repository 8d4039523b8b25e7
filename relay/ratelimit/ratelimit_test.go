package ratelimit

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func TestBucket(t *testing.T) {
	now := t0
	b := NewBucket(Rate{PerMinute: 60, Burst: 3})
	b.now = func() time.Time { return now }
	b.b.last = now
	for i := range 3 {
		if ok, _ := b.Take(); !ok {
			t.Fatalf("take %d of the burst refused", i)
		}
	}
	ok, wait := b.Take()
	if ok || wait != time.Second {
		t.Fatalf("empty bucket: %v, wait %v", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := b.Take(); !ok {
		t.Fatal("refilled token refused")
	}
	now = now.Add(time.Hour)
	for i := range 4 {
		if ok, _ := b.Take(); ok != (i < 3) {
			t.Fatalf("after an hour, take %d: %v; the burst caps the refill", i, ok)
		}
	}
}

func TestBucketRetryAfter(t *testing.T) {
	b := NewBucket(Rate{PerMinute: 2, Burst: 1})
	b.now = func() time.Time { return t0 }
	b.b.last = t0
	b.Take()
	if _, wait := b.Take(); wait != 30*time.Second {
		t.Fatalf("wait %v, want 30s at 2 a minute", wait)
	}
}

func TestGate(t *testing.T) {
	g := NewGate(2)
	if !g.TryEnter() || !g.TryEnter() || g.TryEnter() {
		t.Fatal("gate of 2 did not admit exactly 2")
	}
	g.Leave()
	if !g.TryEnter() {
		t.Fatal("a freed place was refused")
	}
}

func newClients(rate Rate, max int, now *time.Time) *Clients {
	c := NewClients(rate, time.Hour, max)
	c.SetClock(func() time.Time { return *now })
	return c
}

func TestClientsSeparate(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 1, Burst: 2}, 100, &now)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	take := func(addr netip.Addr) bool { ok, _ := c.Take(addr); return ok }
	if !take(a) || !take(a) || take(a) {
		t.Fatal("client a: want a burst of 2")
	}
	if !take(b) {
		t.Fatal("client b is limited by a's use")
	}
	// IPv4 in IPv6 is the same client.
	if take(netip.MustParseAddr("::ffff:192.0.2.1")) {
		t.Fatal("a mapped address escaped its client's limit")
	}
}

func TestClientsIPv6Network(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 1, Burst: 1}, 100, &now)
	c.Take(netip.MustParseAddr("2001:db8:1:2::1"))
	if ok, _ := c.Take(netip.MustParseAddr("2001:db8:1:2:ffff::9")); ok {
		t.Fatal("another address in the same /64 has its own allowance")
	}
	if ok, _ := c.Take(netip.MustParseAddr("2001:db8:1:3::1")); !ok {
		t.Fatal("another /64 is limited")
	}
}

func TestClientsRotation(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 1.0 / 120, Burst: 1}, 100, &now)
	a := netip.MustParseAddr("198.51.100.7")
	c.Take(a)
	old := c.cur
	now = now.Add(61 * time.Minute)
	if c.Take(a); c.cur == old || c.prev != old {
		t.Fatal("secret not rotated after an hour")
	}
	if ok, _ := c.Take(a); ok {
		t.Fatal("rotation reset a client's allowance")
	}
	if len(old.entries) != 0 {
		t.Fatal("the client's bucket was not moved to the new secret")
	}
	now = now.Add(3 * time.Hour)
	c.Take(netip.MustParseAddr("198.51.100.8"))
	if c.prev != nil || c.Len() != 1 {
		t.Fatalf("after two idle periods: prev %v, %d clients remembered", c.prev != nil, c.Len())
	}
}

// TestClientsBounded: with as many clients remembered as allowed, a new
// client is taken in, and the least recently seen one is forgotten, not
// one seen lately.
func TestClientsBounded(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 1, Burst: 2}, 3, &now)
	addr := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("203.0.113.%d", i)) }
	for i := range 3 {
		c.Take(addr(i))
	}
	c.Take(addr(0)) // 0 is now the most recent, 1 the least; 0's bucket is empty
	if ok, _ := c.Take(addr(9)); !ok || c.Len() != 3 {
		t.Fatalf("a 4th client with 3 busy ones: %v, %d remembered; want it taken in, 3 remembered", ok, c.Len())
	}
	if ok, _ := c.Take(addr(0)); ok {
		t.Fatal("the most recent client was forgotten to make room")
	}
	// 1 was forgotten: it starts again, as a new client would.
	if ok, _ := c.Take(addr(1)); !ok {
		t.Fatal("the forgotten client is still limited")
	}
	if ok, _ := c.Take(addr(1)); !ok {
		t.Fatal("the forgotten client did not start again with a full bucket")
	}
}

// TestClientsFloodFromManyAddresses: after more clients than are
// remembered, each with a partly used bucket, new clients are still taken
// in at once.
func TestClientsFloodFromManyAddresses(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 10, Burst: 20}, 1000, &now)
	for i := range 5000 {
		c.Take(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	for i := range 20 {
		if ok, _ := c.Take(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})); !ok {
			t.Fatalf("new client %d after a flood: refused", i)
		}
	}
	if c.Len() > 1000 {
		t.Fatalf("%d clients remembered, at most 1000 allowed", c.Len())
	}
}

// TestClientsIPv6Aggregation: a /48 from which many /64s ask becomes one
// client, with an empty bucket; other /48s keep their own allowances; and
// a /32 many of whose /48s flood becomes one client too.
func TestClientsIPv6Aggregation(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 1, Burst: 5}, 1_000_000, &now)
	in48 := func(p48, n uint16) netip.Addr {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(p48 >> 8), byte(p48), byte(n >> 8), byte(n), 15: 1})
	}
	for i := range AggregateAfter {
		if ok, _ := c.Take(in48(1, uint16(i))); !ok {
			t.Fatalf("/64 number %d of a /48, before it floods: refused", i)
		}
	}
	if ok, _ := c.Take(in48(1, 9999)); ok {
		t.Fatalf("a new /64 after %d others of its /48: taken in with an allowance of its own", AggregateAfter)
	}
	if ok, _ := c.Take(in48(2, 1)); !ok {
		t.Fatal("a /64 in another /48 is limited by the flooded one")
	}
	// The flooded /48's share refills at the rate.
	now = now.Add(time.Minute)
	if ok, _ := c.Take(in48(1, 4242)); !ok {
		t.Fatal("the flooded /48 does not get its share after a minute")
	}
	// AggregateAfter /48s of one /32 flood: the /32 is one client.
	for p := range uint16(AggregateAfter) {
		for i := range AggregateAfter {
			c.Take(in48(0x100+p, uint16(i)))
		}
	}
	if ok, _ := c.Take(in48(0x7777, 1)); ok {
		t.Fatal("a fresh /48 in a /32 that floods has an allowance of its own")
	}
	if ok, _ := c.Take(netip.MustParseAddr("2001:db9::1")); !ok {
		t.Fatal("another /32 is limited")
	}
	// IPv4 addresses are never aggregated.
	for i := range 2 * AggregateAfter {
		if ok, _ := c.Take(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})); !ok {
			t.Fatalf("IPv4 address %d of one /24: refused", i)
		}
	}
}

func TestForwardedFor(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		peer  string
		lines []string
		want  string
	}{
		{"192.0.2.1", []string{"198.51.100.1"}, "192.0.2.1"},                       // untrusted peer: header ignored
		{"10.0.0.2", nil, "10.0.0.2"},                                              // trusted peer, no header
		{"10.0.0.2", []string{"198.51.100.1"}, "198.51.100.1"},                     // one proxy
		{"10.0.0.2", []string{"6.6.6.6, 198.51.100.1, 10.0.0.3"}, "198.51.100.1"},  // spoofed left part ignored
		{"10.0.0.2", []string{"6.6.6.6", "198.51.100.1,10.0.0.3"}, "198.51.100.1"}, // several lines
		{"::1", []string{"2001:db8::5"}, "2001:db8::5"},                            // IPv6
		{"10.0.0.2", []string{"198.51.100.1:4711"}, "198.51.100.1"},                // with a port
		{"10.0.0.2", []string{"[2001:db8::5]:443"}, "2001:db8::5"},                 // bracketed with a port
		{"10.0.0.2", []string{"198.51.100.1, garbage, 10.0.0.3"}, "10.0.0.3"},      // garbage: stop at the proxy that wrote it
		{"10.0.0.2", []string{"unknown"}, "10.0.0.2"},                              // obfuscated
		{"10.0.0.2", []string{",,, ,"}, "10.0.0.2"},                                // empty entries
		{"10.0.0.2", []string{"10.0.0.9, 10.0.0.8"}, "10.0.0.9"},                   // all trusted: the left-most
		{"10.0.0.2", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},              // mapped
	}
	for _, tt := range tests {
		got := ForwardedFor(netip.MustParseAddr(tt.peer), tt.lines, trusted)
		if got.String() != tt.want {
			t.Errorf("ForwardedFor(%s, %q) = %s, want %s", tt.peer, tt.lines, got, tt.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::ffff:127.0.0.1]:5000"
	r.Header.Add("X-Forwarded-For", "192.0.2.44")
	a, ok := ClientAddr(r, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	if !ok || a.String() != "192.0.2.44" {
		t.Fatalf("ClientAddr = %v, %v", a, ok)
	}
	if a, _ = ClientAddr(r, nil); a.String() != "127.0.0.1" {
		t.Fatalf("without trusted proxies: %v", a)
	}
	r.RemoteAddr = "pipe"
	if _, ok := ClientAddr(r, nil); ok {
		t.Fatal("an unreadable peer address was accepted")
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{"10.1.2.3/8": "10.0.0.0/8", "192.0.2.7": "192.0.2.7/32", "::1": "::1/128", "::ffff:10.0.0.1": "10.0.0.1/32"} {
		if p, err := ParsePrefix(in); err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "proxy.example", "10.0.0.0/33", "1.2.3.4:80"} {
		if _, err := ParsePrefix(in); err == nil {
			t.Errorf("ParsePrefix(%q) accepted", in)
		}
	}
}

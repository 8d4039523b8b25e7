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
	if len(old.buckets) != 0 {
		t.Fatal("the client's bucket was not moved to the new secret")
	}
	now = now.Add(3 * time.Hour)
	c.Take(netip.MustParseAddr("198.51.100.8"))
	if c.prev != nil || c.Len() != 1 {
		t.Fatalf("after two idle periods: prev %v, %d clients remembered", c.prev != nil, c.Len())
	}
}

func TestClientsBounded(t *testing.T) {
	now := t0
	c := newClients(Rate{PerMinute: 60, Burst: 2}, 3, &now)
	addr := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("203.0.113.%d", i)) }
	for i := range 3 {
		c.Take(addr(i))
	}
	if ok, wait := c.Take(addr(9)); ok || wait != time.Second {
		t.Fatalf("a 4th client with 3 busy ones: %v %v", ok, wait)
	}
	// Two seconds later the buckets are full again and can be forgotten.
	now = now.Add(2 * time.Second)
	if ok, _ := c.Take(addr(9)); !ok || c.Len() != 1 {
		t.Fatalf("after the others went idle: %v, %d remembered", ok, c.Len())
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

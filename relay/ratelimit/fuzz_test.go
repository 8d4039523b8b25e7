package ratelimit

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzForwardedFor: whatever a client writes into X-Forwarded-For, the
// result is a valid address; behind no trusted proxy it is the peer; and
// otherwise it is the peer or an address written in the header.
func FuzzForwardedFor(f *testing.F) {
	fuzzseed.Require(f)
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	f.Fuzz(func(t *testing.T, peerText, header string) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil {
			return
		}
		peer = peer.Unmap()
		lines := strings.Split(header, "\n")
		got := ForwardedFor(peer, lines, trusted)
		if !got.IsValid() || got.Is4In6() {
			t.Fatalf("ForwardedFor(%s, %q) = %v", peer, lines, got)
		}
		if !isTrusted(peer, trusted) && got != peer {
			t.Fatalf("untrusted peer %s: got %s from the header", peer, got)
		}
		if got != peer && !written(lines)[got] {
			t.Fatalf("got %s, which is in neither the peer nor the header %q", got, header)
		}
	})
}

// written returns every address written in the header lines.
func written(lines []string) map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	for _, l := range lines {
		for _, e := range strings.Split(l, ",") {
			e = strings.TrimSpace(e)
			if a, err := netip.ParseAddr(e); err == nil {
				m[a.Unmap()] = true
			} else if ap, err := netip.ParseAddrPort(e); err == nil {
				m[ap.Addr().Unmap()] = true
			}
		}
	}
	return m
}

// FuzzParsePrefix: a trusted proxy as written in the configuration parses
// to a masked prefix or an error, never a panic.
func FuzzParsePrefix(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("ParsePrefix(%q) = %v", s, p)
		}
	})
}

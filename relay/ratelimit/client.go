package ratelimit

import (
	"net/http"
	"net/netip"
	"strings"
)

// MaxForwardedHops is how many X-Forwarded-For entries ClientAddr reads,
// from the right; a longer chain is cut there.
const MaxForwardedHops = 16

// ClientAddr returns the address a request came from, for rate limits
// only: never log or store it. It is the connection's peer, unless that
// peer is one of the trusted proxies: then it is the right-most address in
// X-Forwarded-For that is not a trusted proxy, since entries to the left of
// it were written by the client and prove nothing. ok is false if the
// connection's peer address cannot be read.
func ClientAddr(r *http.Request, trusted []netip.Prefix) (addr netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ForwardedFor(ap.Addr().Unmap(), r.Header.Values("X-Forwarded-For"), trusted), true
}

// ForwardedFor returns the client's address given the connection's peer
// and the X-Forwarded-For header lines, as [ClientAddr] describes. An
// entry that is not an address ends the walk at the proxy that wrote it.
func ForwardedFor(peer netip.Addr, lines []string, trusted []netip.Prefix) netip.Addr {
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := 0
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, entry = rest[:j], rest[j+1:]
			} else {
				rest, entry = "", rest
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, err := netip.ParseAddr(entry)
			if err != nil {
				// Some proxies write the client's port too.
				ap, err := netip.ParseAddrPort(entry)
				if err != nil {
					return peer
				}
				a = ap.Addr()
			}
			peer = a.Unmap()
			if !isTrusted(peer, trusted) {
				return peer
			}
			if hops++; hops >= MaxForwardedHops {
				return peer
			}
		}
	}
	return peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefix reads a trusted proxy as a network ("10.0.0.0/8") or a
// single address ("192.0.2.7", "::1").
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

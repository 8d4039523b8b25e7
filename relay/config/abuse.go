package config

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/relay/ratelimit"
)

// Defaults of [relay.pow] and [relay.limits]; docs/abuse.md explains them.
const (
	// DefaultDifficulty is the usual bound of a challenge's secret
	// counter: with the default cost a browser derives
	// DefaultDifficulty/2 keys, about a second, on average, in the
	// background while the form is filled in (docs/abuse.md).
	DefaultDifficulty    = 400
	DefaultMaxDifficulty = 3_200
	// MaxDifficulty bounds max_difficulty.
	MaxDifficulty = 100_000
	// DefaultV1Difficulty is the maxnumber of version 1 challenges, for
	// clients that still ask for them: about a second of a browser's
	// time on average.
	DefaultV1Difficulty = 1_000_000
	// MaxV1Difficulty bounds v1_difficulty, and version 1's maxnumber
	// as load raises it.
	MaxV1Difficulty = 50_000_000
	// MaxCost bounds cost: issuing a challenge derives one key.
	MaxCost                 = 1_000_000
	DefaultPoWExpiry        = 10 * time.Minute
	DefaultRaiseChallenges  = 600
	DefaultRaiseReports     = 120
	DefaultReplayCapacity   = 1 << 18
	DefaultChallengesPerMin = 30
	DefaultChallengeBurst   = 60
	DefaultReportsPerMin    = 10
	DefaultReportBurst      = 20
	// DefaultRepliesPerMin and DefaultReplyBurst let a hotline's
	// analysts, often behind one address, answer a morning's reports in
	// one sitting, and still bound what a sender without the hotline's
	// key makes the relay read and verify.
	DefaultRepliesPerMin   = 30
	DefaultReplyBurst      = 60
	DefaultTotalReportsMin = 600
	DefaultMaxConcurrent   = 64
	// DefaultMaxConcurrentPerClient lets a school or an office behind
	// one address send a few reports at the same moment, and keeps one
	// sender from holding more than a sixteenth of the default slots.
	DefaultMaxConcurrentPerClient = 4
	// DefaultMinBodyRate, in bytes a second, is a tenth of a slow mobile
	// link's upload; a report of the largest size then arrives within
	// about 40 s, and a stalled one is cut after the grace period.
	DefaultMinBodyRate = 2048
	// MinBodyRateLimit bounds min_body_rate from above: at 64 KB a
	// second, some people on mobile links could not report at all.
	MinBodyRateLimit   = 64 << 10
	DefaultMaxClients  = 100_000
	DefaultKeyRotation = time.Hour
	// MinPoWKeyLen is the shortest secret a PoW key file may hold.
	MinPoWKeyLen = 32
)

// PoW holds the proof-of-work settings, the [relay.pow] table.
type PoW struct {
	// Cost is what one key of a challenge costs: PBKDF2-HMAC-SHA-256
	// iterations. (No memory-hard function is offered: the widget could
	// not derive one within its size budget; docs/abuse.md.)
	Cost int64 `toml:"cost"`
	// Difficulty bounds a challenge's secret counter when the relay is
	// not under load: the widget derives Difficulty/2 keys on average.
	Difficulty int64 `toml:"difficulty"`
	// MaxDifficulty is as far as the relay raises it under load.
	MaxDifficulty int64 `toml:"max_difficulty"`
	// V1Difficulty is the maxnumber of ALTCHA version 1 challenges, for
	// clients that ask for version 1 while it is accepted; load raises it
	// in proportion to Difficulty.
	V1Difficulty int64 `toml:"v1_difficulty"`
	// AcceptV1Until ends the transition from ALTCHA version 1: from this
	// date ("2027-03-01") or time (RFC 3339), version 1 solutions are
	// refused and every challenge is version 2. Empty: version 1 is still
	// accepted.
	AcceptV1Until string `toml:"accept_v1_until"`
	// Expiry is how long a challenge may be used after it is issued.
	Expiry Duration `toml:"expiry"`
	// KeyFile holds the secret that signs challenges (at least 32
	// characters on its first line that is not a comment). Empty means a
	// random secret per process: right for one relay, but relays behind
	// one load balancer must share a key file, or a challenge from one is
	// refused by the others.
	KeyFile string `toml:"key_file"`
	// RaiseAboveChallenges and RaiseAboveReports are the loads, per
	// minute, above which the difficulty doubles each minute.
	RaiseAboveChallenges int `toml:"raise_above_challenges_per_minute"`
	RaiseAboveReports    int `toml:"raise_above_reports_per_minute"`
	// ReplayCapacity bounds how many used challenges the relay remembers
	// until they expire (about 100 bytes each).
	ReplayCapacity int `toml:"replay_capacity"`

	key     []byte
	v1Until time.Time
}

// Key returns the secret read from KeyFile by Validate, or nil if there
// is no key file and the relay should make a random one.
func (p *PoW) Key() []byte { return p.key }

// KDF returns the key-derivation function of new challenges.
func (p *PoW) KDF() pow.KDF {
	return pow.KDF{Algorithm: pow.AlgorithmPBKDF2, Cost: p.Cost}
}

// V1Until returns AcceptV1Until as parsed by Validate: zero while
// version 1 has no end.
func (p *PoW) V1Until() time.Time { return p.v1Until }

// Limits holds the rate limits, the [relay.limits] table. Per-client
// limits are kept in memory under a keyed hash of the client's address
// that rotates; no address is ever stored or logged.
type Limits struct {
	// ChallengesPerMinute and ChallengeBurst limit each client's
	// challenge requests.
	ChallengesPerMinute float64 `toml:"challenges_per_minute"`
	ChallengeBurst      int     `toml:"challenge_burst"`
	// ReportsPerMinute and ReportBurst limit each client's reports.
	ReportsPerMinute float64 `toml:"reports_per_minute"`
	ReportBurst      int     `toml:"report_burst"`
	// RepliesPerMinute and ReplyBurst limit each client's reply posts
	// (a hotline's answers to reporters).
	RepliesPerMinute float64 `toml:"replies_per_minute"`
	ReplyBurst       int     `toml:"reply_burst"`
	// TotalReportsPerMinute is the ceiling over all clients, counted on
	// reports with a valid proof of work.
	TotalReportsPerMinute float64 `toml:"total_reports_per_minute"`
	// MaxConcurrentReports bounds the report bodies read at once.
	MaxConcurrentReports int `toml:"max_concurrent_reports"`
	// MaxConcurrentReportsPerClient bounds the report bodies read at
	// once from one client, so that no sender holds every slot.
	MaxConcurrentReportsPerClient int `toml:"max_concurrent_reports_per_client"`
	// MinBodyRate is the slowest a report body may arrive, in bytes a
	// second on average, after a few seconds' grace; a slower body is
	// cut off with 408, so that slow senders cannot hold the slots.
	MinBodyRate int `toml:"min_body_rate"`
	// MaxClients bounds how many clients are remembered at once.
	MaxClients int `toml:"max_clients"`
	// KeyRotation is how often the secret behind the client keys is
	// replaced; a key is unlinkable to its address two periods later.
	KeyRotation Duration `toml:"key_rotation"`
	// TrustedProxies are the reverse proxies (addresses or networks)
	// whose X-Forwarded-For header names the client; empty means the
	// connection's peer is the client.
	TrustedProxies []string `toml:"trusted_proxies"`

	trusted []netip.Prefix
}

// Trusted returns TrustedProxies as parsed by Validate.
func (l *Limits) Trusted() []netip.Prefix { return l.trusted }

func (c *Config) abuseDefaults() {
	p, l := &c.Relay.PoW, &c.Relay.Limits
	setDefault(&p.Cost, pow.DefaultKDF.Cost)
	setDefault(&p.Difficulty, DefaultDifficulty)
	setDefault(&p.MaxDifficulty, max(DefaultMaxDifficulty, p.Difficulty))
	setDefault(&p.V1Difficulty, DefaultV1Difficulty)
	setDefault(&p.Expiry.Duration, DefaultPoWExpiry)
	setDefault(&p.RaiseAboveChallenges, DefaultRaiseChallenges)
	setDefault(&p.RaiseAboveReports, DefaultRaiseReports)
	setDefault(&p.ReplayCapacity, DefaultReplayCapacity)
	setDefault(&l.ChallengesPerMinute, DefaultChallengesPerMin)
	setDefault(&l.ChallengeBurst, DefaultChallengeBurst)
	setDefault(&l.ReportsPerMinute, DefaultReportsPerMin)
	setDefault(&l.ReportBurst, DefaultReportBurst)
	setDefault(&l.RepliesPerMinute, DefaultRepliesPerMin)
	setDefault(&l.ReplyBurst, DefaultReplyBurst)
	setDefault(&l.TotalReportsPerMinute, DefaultTotalReportsMin)
	setDefault(&l.MaxConcurrentReports, DefaultMaxConcurrent)
	setDefault(&l.MaxConcurrentReportsPerClient, min(DefaultMaxConcurrentPerClient, l.MaxConcurrentReports))
	setDefault(&l.MinBodyRate, DefaultMinBodyRate)
	setDefault(&l.MaxClients, DefaultMaxClients)
	setDefault(&l.KeyRotation.Duration, DefaultKeyRotation)
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func (c *Config) validateAbuse(bad func(key, format string, args ...any)) {
	p, l := &c.Relay.PoW, &c.Relay.Limits
	if p.Difficulty < 1 || p.Difficulty > MaxDifficulty {
		bad("relay.pow.difficulty", "%d: use 1 to %d; it bounds the keys a browser derives (ALTCHA version 2); version 1's maxnumber is v1_difficulty", p.Difficulty, MaxDifficulty)
	}
	if p.MaxDifficulty < p.Difficulty || p.MaxDifficulty > MaxDifficulty {
		bad("relay.pow.max_difficulty", "%d: use difficulty (%d) to %d", p.MaxDifficulty, p.Difficulty, MaxDifficulty)
	}
	if p.Cost < 1 || p.Cost > MaxCost {
		bad("relay.pow.cost", "%d: use 1 to %d PBKDF2 iterations; to ask for more work, raise difficulty", p.Cost, MaxCost)
	}
	if p.V1Difficulty < 1 || p.V1Difficulty > MaxV1Difficulty {
		bad("relay.pow.v1_difficulty", "%d: use 1 to %d", p.V1Difficulty, MaxV1Difficulty)
	}
	p.v1Until = time.Time{}
	if s := p.AcceptV1Until; s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t, err = time.Parse(time.RFC3339, s)
		}
		if err != nil {
			bad("relay.pow.accept_v1_until", "%q: write a date like \"2027-03-01\" or a time like \"2027-03-01T00:00:00Z\"", s)
		}
		p.v1Until = t
	}
	if d := p.Expiry.Duration; d < time.Minute || d > 24*time.Hour {
		bad("relay.pow.expiry", "%v: use 1m to 24h; a person needs minutes to fill in the form", d)
	}
	positive := func(key string, n float64) {
		if n < 0 {
			bad(key, "%v: must be positive", n)
		}
	}
	positive("relay.pow.raise_above_challenges_per_minute", float64(p.RaiseAboveChallenges))
	positive("relay.pow.raise_above_reports_per_minute", float64(p.RaiseAboveReports))
	positive("relay.pow.replay_capacity", float64(p.ReplayCapacity))
	if p.KeyFile != "" {
		key, err := readPoWKey(p.KeyFile)
		if err != nil {
			bad("relay.pow.key_file", "%v", err)
		}
		p.key = key
	}
	positive("relay.limits.challenges_per_minute", l.ChallengesPerMinute)
	positive("relay.limits.challenge_burst", float64(l.ChallengeBurst))
	positive("relay.limits.reports_per_minute", l.ReportsPerMinute)
	positive("relay.limits.report_burst", float64(l.ReportBurst))
	positive("relay.limits.replies_per_minute", l.RepliesPerMinute)
	positive("relay.limits.reply_burst", float64(l.ReplyBurst))
	positive("relay.limits.total_reports_per_minute", l.TotalReportsPerMinute)
	positive("relay.limits.max_concurrent_reports", float64(l.MaxConcurrentReports))
	positive("relay.limits.max_concurrent_reports_per_client", float64(l.MaxConcurrentReportsPerClient))
	if l.MaxConcurrentReportsPerClient > l.MaxConcurrentReports {
		bad("relay.limits.max_concurrent_reports_per_client", "%d is more than max_concurrent_reports (%d): use at most that",
			l.MaxConcurrentReportsPerClient, l.MaxConcurrentReports)
	}
	if l.MinBodyRate < 0 || l.MinBodyRate > MinBodyRateLimit {
		bad("relay.limits.min_body_rate", "%d: use 1 to %d bytes a second", l.MinBodyRate, MinBodyRateLimit)
	}
	positive("relay.limits.max_clients", float64(l.MaxClients))
	if d := l.KeyRotation.Duration; d < time.Minute || d > 24*time.Hour {
		bad("relay.limits.key_rotation", "%v: use 1m to 24h", d)
	}
	l.trusted = l.trusted[:0]
	for _, s := range l.TrustedProxies {
		pfx, err := ratelimit.ParsePrefix(s)
		if err != nil {
			bad("relay.limits.trusted_proxies", "%q is not an address or a network like \"10.0.0.0/8\"", s)
			continue
		}
		l.trusted = append(l.trusted, pfx)
	}
}

// readPoWKey reads the first line of a key file that is neither empty
// nor a comment. It reads regular files only, and at most 4 KB of them.
func readPoWKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	sc := bufio.NewScanner(io.LimitReader(f, 4<<10))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.IndexFunc(line, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return nil, fmt.Errorf("the key in %s has spaces or control characters: write it as one word, like the output of `openssl rand -hex 32`", path)
		}
		if len(line) < MinPoWKeyLen {
			return nil, fmt.Errorf("the key in %s has %d characters: use at least %d, like the output of `openssl rand -hex 32`", path, len(line), MinPoWKeyLen)
		}
		return []byte(line), nil
	}
	return nil, fmt.Errorf("no key in %s: write one line of at least %d random characters, like the output of `openssl rand -hex 32`", path, MinPoWKeyLen)
}

package config

import (
	"github.com/reportline/reportline/pow"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/fuzzseed"
)

func TestAbuseDefaults(t *testing.T) {
	c, err := Parse([]byte(validTOML(t)))
	if err != nil {
		t.Fatal(err)
	}
	p, l := c.Relay.PoW, c.Relay.Limits
	if p.Difficulty != DefaultDifficulty || p.MaxDifficulty != DefaultMaxDifficulty || p.Expiry.Duration != DefaultPoWExpiry ||
		p.ReplayCapacity != DefaultReplayCapacity || p.Key() != nil || p.KDF() != pow.DefaultKDF || p.V1Difficulty != DefaultV1Difficulty || !p.V1Until().IsZero() {
		t.Errorf("pow defaults: %+v", p)
	}
	if l.ReportsPerMinute != DefaultReportsPerMin || l.ChallengeBurst != DefaultChallengeBurst ||
		l.KeyRotation.Duration != time.Hour || l.MaxConcurrentReports != DefaultMaxConcurrent || len(l.Trusted()) != 0 {
		t.Errorf("limits defaults: %+v", l)
	}
}

func TestAbuseSettings(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "pow.key")
	os.WriteFile(key, []byte("# shared by every relay behind the balancer\n\n"+strings.Repeat("ab", 32)+"\n"), 0o600)
	c, err := Parse([]byte(validTOML(t) + `
[relay.pow]
difficulty = 500
expiry = "5m"
key_file = "` + key + `"

[relay.limits]
reports_per_minute = 2.5
trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]
`))
	if err != nil {
		t.Fatal(err)
	}
	p, l := c.Relay.PoW, c.Relay.Limits
	if p.Difficulty != 500 || p.MaxDifficulty != DefaultMaxDifficulty || p.Expiry.Duration != 5*time.Minute || string(p.Key()) != strings.Repeat("ab", 32) {
		t.Errorf("pow: %+v key %q", p, p.Key())
	}
	if l.ReportsPerMinute != 2.5 || len(l.Trusted()) != 3 || l.Trusted()[1].String() != "10.0.0.0/8" {
		t.Errorf("limits: %+v %v", l, l.Trusted())
	}
	// A difficulty above the default maximum raises the maximum with it.
	c, err = Parse([]byte(validTOML(t) + "[relay.pow]\ndifficulty = 90000\n"))
	if err != nil || c.Relay.PoW.MaxDifficulty != 90_000 {
		t.Errorf("max_difficulty follows difficulty: %v, %v", c, err)
	}
	// The cost, and the end of the transition, as a date or a time.
	for _, until := range []string{"2027-03-01", "2027-03-01T00:00:00Z"} {
		c, err = Parse([]byte(validTOML(t) + "[relay.pow]\ncost = 20000\naccept_v1_until = \"" + until + "\"\n"))
		if err != nil || c.Relay.PoW.KDF() != (pow.KDF{Algorithm: pow.AlgorithmPBKDF2, Cost: 20000}) ||
			!c.Relay.PoW.V1Until().Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("cost and the end of version 1 (%s): %+v, %v", until, c.Relay.PoW, err)
		}
	}
}

func TestAbuseErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("secret\n"), 0o600)
	spaced := filepath.Join(dir, "spaced.key")
	os.WriteFile(spaced, []byte(strings.Repeat("word ", 10)+"\n"), 0o600)
	comments := filepath.Join(dir, "comments.key")
	os.WriteFile(comments, []byte("# nothing\n"), 0o600)
	tests := []struct{ name, toml, want string }{
		{"negative difficulty", "[relay.pow]\ndifficulty = -1", "relay.pow.difficulty"},
		{"difficulty too high", "[relay.pow]\ndifficulty = 1000000", "relay.pow.difficulty"},
		{"negative cost", "[relay.pow]\ncost = -1", "relay.pow.cost"},
		{"cost too high", "[relay.pow]\ncost = 2000000", "relay.pow.cost"},
		{"no memory-hard function", "[relay.pow]\nalgorithm = \"SCRYPT\"", `unknown key "relay.pow.algorithm"`},
		{"v1 difficulty too high", "[relay.pow]\nv1_difficulty = 60000000", "relay.pow.v1_difficulty"},
		{"v1 end not a date", "[relay.pow]\naccept_v1_until = \"next spring\"", "relay.pow.accept_v1_until"},
		{"max below difficulty", "[relay.pow]\ndifficulty = 5000\nmax_difficulty = 4000", "relay.pow.max_difficulty"},
		{"short expiry", "[relay.pow]\nexpiry = \"10s\"", "relay.pow.expiry"},
		{"long expiry", "[relay.pow]\nexpiry = \"48h\"", "relay.pow.expiry"},
		{"missing key file", "[relay.pow]\nkey_file = \"" + filepath.Join(dir, "nope") + "\"", "relay.pow.key_file: failed to open"},
		{"short key", "[relay.pow]\nkey_file = \"" + short + "\"", "relay.pow.key_file: the key in"},
		{"key with spaces", "[relay.pow]\nkey_file = \"" + spaced + "\"", "spaces or control characters"},
		{"no key", "[relay.pow]\nkey_file = \"" + comments + "\"", "relay.pow.key_file: no key"},
		{"key file a directory", "[relay.pow]\nkey_file = \"" + dir + "\"", "not a regular file"},
		{"key file a device", "[relay.pow]\nkey_file = \"/dev/zero\"", "not a regular file"},
		{"negative rate", "[relay.limits]\nreports_per_minute = -1", "relay.limits.reports_per_minute"},
		{"negative ceiling", "[relay.limits]\ntotal_reports_per_minute = -5", "relay.limits.total_reports_per_minute"},
		{"short rotation", "[relay.limits]\nkey_rotation = \"1s\"", "relay.limits.key_rotation"},
		{"proxy host name", "[relay.limits]\ntrusted_proxies = [\"proxy.example\"]", "relay.limits.trusted_proxies"},
		{"proxy with port", "[relay.limits]\ntrusted_proxies = [\"10.0.0.1:80\"]", "relay.limits.trusted_proxies"},
		{"unknown key", "[relay.pow]\ndificulty = 5", `unknown key "relay.pow.dificulty"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(validTOML(t) + "\n" + tt.toml + "\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// FuzzReadPoWKey: whatever a key file holds, reading it never panics, and
// a key it returns is one trimmed line of at least MinPoWKeyLen
// characters that is not a comment.
func FuzzReadPoWKey(f *testing.F) {
	fuzzseed.Require(f)
	path := filepath.Join(f.TempDir(), "pow.key")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		key, err := readPoWKey(path)
		if err != nil {
			return
		}
		s := string(key)
		if len(s) < MinPoWKeyLen || strings.ContainsAny(s, " \t\r\n") || strings.HasPrefix(s, "#") {
			t.Fatalf("key %q from %q", s, b)
		}
	})
}

package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Override sets one [relay] key from outside the file: from a command-line
// flag or an environment variable. Overrides are applied after the file
// is read and before defaults and validation, so an overridden value is
// checked like any other, and its error names where it came from.
type Override struct {
	// Key is the key's full name, "relay.listen".
	Key string
	// Value is the value as text: durations like "90s", booleans "true"
	// or "false", lists separated by commas.
	Value string
	// Source names where the value came from ("RELAY_LISTEN", "-listen").
	Source string
}

// OverrideKey is one key that flags and environment variables can set.
type OverrideKey struct {
	// Key is the key's full name, "relay.tls.cert_file".
	Key string
	// Env is the environment variable, "RELAY_TLS_CERT_FILE".
	Env string
	// Flag is the `relay serve` flag without its dash, "tls-cert-file".
	Flag string
	// Usage is a short description for the flag's help.
	Usage string

	set func(r *Relay, v string) error
}

func str(p func(r *Relay) *string) func(*Relay, string) error {
	return func(r *Relay, v string) error { *p(r) = v; return nil }
}

func dur(p func(r *Relay) *Duration) func(*Relay, string) error {
	return func(r *Relay, v string) error { return p(r).UnmarshalText([]byte(v)) }
}

func boolean(p func(r *Relay) *bool) func(*Relay, string) error {
	return func(r *Relay, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not a boolean: %q: use true or false", v)
		}
		*p(r) = b
		return nil
	}
}

func integer(p func(r *Relay) *int) func(*Relay, string) error {
	return func(r *Relay, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("not a whole number: %q", v)
		}
		*p(r) = n
		return nil
	}
}

func list(p func(r *Relay) *[]string) func(*Relay, string) error {
	return func(r *Relay, v string) error {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		*p(r) = out
		return nil
	}
}

// OverrideKeys are the keys that flags and environment variables can set,
// each with its environment variable and flag. docs/config.md lists them;
// a test checks that it lists every one.
var OverrideKeys = withNames([]OverrideKey{
	{Key: "relay.listen", Usage: "address to serve on", set: str(func(r *Relay) *string { return &r.Listen })},
	{Key: "relay.public_url", Usage: "the relay's origin as browsers reach it", set: str(func(r *Relay) *string { return &r.PublicURL })},
	{Key: "relay.spool", Usage: "path of the durable report store", set: str(func(r *Relay) *string { return &r.Spool })},
	{Key: "relay.assets", Usage: "folder with widget.wasm and wasm_exec.js", set: str(func(r *Relay) *string { return &r.Assets })},
	{Key: "relay.signing_key_file", Usage: "file with the whsk_ delivery signing key", set: str(func(r *Relay) *string { return &r.SigningKeyFile })},
	{Key: "relay.log_format", Usage: "json or text", set: str(func(r *Relay) *string { return &r.LogFormat })},
	{Key: "relay.log_level", Usage: "debug, info, warn or error", set: str(func(r *Relay) *string { return &r.LogLevel })},
	{Key: "relay.max_delivery_age", Usage: "how long to retry a report before the dead-letter area", set: dur(func(r *Relay) *Duration { return &r.MaxDeliveryAge })},
	{Key: "relay.retry_min", Usage: "delay after a first failed delivery", set: dur(func(r *Relay) *Duration { return &r.RetryMin })},
	{Key: "relay.retry_max", Usage: "longest delay between two delivery attempts", set: dur(func(r *Relay) *Duration { return &r.RetryMax })},
	{Key: "relay.delivery_timeout", Usage: "time limit of one delivery attempt", set: dur(func(r *Relay) *Duration { return &r.DeliveryTimeout })},
	{Key: "relay.delivery_workers", Usage: "deliveries under way at once, over all hotlines", set: integer(func(r *Relay) *int { return &r.DeliveryWorkers })},
	{Key: "relay.shutdown_timeout", Usage: "time a stopping relay waits for work in flight", set: dur(func(r *Relay) *Duration { return &r.ShutdownTimeout })},
	{Key: "relay.metrics_listen", Usage: "separate address for /metrics", set: str(func(r *Relay) *string { return &r.MetricsListen })},
	{Key: "relay.admin_socket", Usage: "Unix socket for the relay spool commands", set: str(func(r *Relay) *string { return &r.AdminSocket })},
	{Key: "relay.tls.cert_file", Usage: "PEM certificate chain for HTTPS", set: str(func(r *Relay) *string { return &r.TLS.CertFile })},
	{Key: "relay.tls.key_file", Usage: "PEM private key for HTTPS", set: str(func(r *Relay) *string { return &r.TLS.KeyFile })},
	{Key: "relay.tls.acme", Usage: "get certificates through ACME", set: boolean(func(r *Relay) *bool { return &r.TLS.ACME })},
	{Key: "relay.tls.domains", Usage: "host names for ACME, separated by commas", set: list(func(r *Relay) *[]string { return &r.TLS.Domains })},
	{Key: "relay.tls.cache_dir", Usage: "folder for ACME keys and certificates", set: str(func(r *Relay) *string { return &r.TLS.CacheDir })},
	{Key: "relay.tls.email", Usage: "contact address given to the ACME CA", set: str(func(r *Relay) *string { return &r.TLS.Email })},
	{Key: "relay.tls.acme_directory", Usage: "ACME directory URL", set: str(func(r *Relay) *string { return &r.TLS.ACMEDirectory })},
	{Key: "relay.tls.http_listen", Usage: "address for the HTTP to HTTPS redirect", set: str(func(r *Relay) *string { return &r.TLS.HTTPListen })},
	{Key: "relay.tls.hsts_max_age", Usage: "max-age of Strict-Transport-Security", set: dur(func(r *Relay) *Duration { return &r.TLS.HSTSMaxAge })},
	{Key: "relay.pow.key_file", Usage: "file with the secret that signs proof-of-work challenges", set: str(func(r *Relay) *string { return &r.PoW.KeyFile })},
})

// withNames derives each key's environment variable and flag from its
// name: relay.tls.cert_file → RELAY_TLS_CERT_FILE and -tls-cert-file.
func withNames(keys []OverrideKey) []OverrideKey {
	for i := range keys {
		k := &keys[i]
		k.Env = strings.ToUpper(strings.NewReplacer(".", "_").Replace(k.Key))
		k.Flag = strings.NewReplacer(".", "-", "_", "-").Replace(strings.TrimPrefix(k.Key, "relay."))
	}
	return keys
}

// EnvOverrides returns an Override for each OverrideKeys environment
// variable that getenv (normally os.Getenv) returns non-empty.
func EnvOverrides(getenv func(string) string) []Override {
	var out []Override
	for _, k := range OverrideKeys {
		if v := getenv(k.Env); v != "" {
			out = append(out, Override{Key: k.Key, Value: v, Source: k.Env})
		}
	}
	return out
}

// apply sets each override in order, so a later one (a flag) wins over an
// earlier one (an environment variable).
func (c *Config) apply(overrides []Override) error {
	for _, o := range overrides {
		i := indexKey(o.Key)
		if i < 0 {
			return fmt.Errorf("config: %s: cannot be overridden (set by %s); see docs/config.md for the keys that can", o.Key, o.Source)
		}
		if err := OverrideKeys[i].set(&c.Relay, o.Value); err != nil {
			return fmt.Errorf("config: %s: %v (set by %s)", o.Key, err, o.Source)
		}
		if c.overridden == nil {
			c.overridden = map[string]string{}
		}
		c.overridden[o.Key] = o.Source
	}
	return nil
}

func indexKey(key string) int {
	for i, k := range OverrideKeys {
		if k.Key == key {
			return i
		}
	}
	return -1
}

// setBy returns " (set by SOURCE)" if key was overridden, else "".
func (c *Config) setBy(key string) string {
	if src, ok := c.overridden[key]; ok {
		return " (set by " + src + ")"
	}
	return ""
}

// Overridden returns the keys set by overrides, each with its source, for
// `relay check-config` to show.
func (c *Config) Overridden() map[string]string {
	out := make(map[string]string, len(c.overridden))
	for k, v := range c.overridden {
		out[k] = v
	}
	return out
}

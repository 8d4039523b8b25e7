package config

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/reportline/reportline/report"
)

// Defaults of the keys checked in this file; docs/config.md lists them.
const (
	DefaultRetryMax        = time.Hour
	DefaultDeliveryTimeout = 30 * time.Second
	DefaultDeliveryWorkers = 128
	// MaxDeliveryWorkers bounds relay.delivery_workers.
	MaxDeliveryWorkers     = 1024
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultMaxConnections bounds the connections the relay holds open
	// on each listener: about 40 MB of buffers and goroutines at most.
	DefaultMaxConnections = 4096
	// MaxMaxConnections is the largest relay.max_connections.
	MaxMaxConnections  = 1_000_000
	DefaultHSTSMaxAge  = 365 * 24 * time.Hour
	DefaultConcurrency = 32
	// MaxConcurrency bounds a hotline's concurrency.
	MaxConcurrency = 64
)

// Signature schemes a hotline can choose.
const (
	SignatureEd25519 = "v1a"
	SignatureHMAC    = "v1"
)

// optionDefaults fills in the optional keys of delivery, TLS, operations,
// languages and themes.
func (c *Config) optionDefaults() {
	r := &c.Relay
	if r.RetryMax.Duration == 0 {
		r.RetryMax.Duration = DefaultRetryMax
	}
	if r.DeliveryTimeout.Duration == 0 {
		r.DeliveryTimeout.Duration = DefaultDeliveryTimeout
	}
	if r.DeliveryWorkers == 0 {
		r.DeliveryWorkers = DefaultDeliveryWorkers
	}
	if r.ShutdownTimeout.Duration == 0 {
		r.ShutdownTimeout.Duration = DefaultShutdownTimeout
	}
	if r.MaxConnections == 0 {
		r.MaxConnections = DefaultMaxConnections
	}
	if r.TLS.HSTSMaxAge.Duration == 0 {
		r.TLS.HSTSMaxAge.Duration = DefaultHSTSMaxAge
	}
	for i := range c.Hotlines {
		h := &c.Hotlines[i]
		if h.Signature == "" {
			h.Signature = SignatureEd25519
		}
		if h.Concurrency == 0 {
			h.Concurrency = DefaultConcurrency
		}
		if len(h.Languages) == 0 {
			h.Languages = []string{report.DefaultLocale}
		}
	}
	for i := range c.Sites {
		c.Sites[i].Theme.defaults()
	}
}

// languagePattern is the shape of a BCP 47 tag as hotlines write them:
// a 2-3 letter language, then optional script, region or variant parts.
var languagePattern = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)

// hostnamePattern is a DNS name of letters, digits and dashes.
var hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$`)

// emergencyPattern is a phone number as people write it.
var emergencyPattern = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{0,23}$`)

// validateOptions checks the optional keys of delivery, TLS, operations,
// languages and themes.
func (c *Config) validateOptions(bad func(key, format string, args ...any)) {
	r := &c.Relay
	positive := func(key string, d Duration) {
		if d.Duration < 0 {
			bad(key, "%v is negative", d.Duration)
		}
	}
	positive("relay.max_delivery_age", r.MaxDeliveryAge)
	positive("relay.retry_min", r.RetryMin)
	positive("relay.mailbox_retention", r.MailboxRetention)
	positive("relay.retry_max", r.RetryMax)
	positive("relay.delivery_timeout", r.DeliveryTimeout)
	positive("relay.shutdown_timeout", r.ShutdownTimeout)
	if r.RetryMin.Duration > r.RetryMax.Duration {
		bad("relay.retry_min", "%v is longer than relay.retry_max (%v)", r.RetryMin.Duration, r.RetryMax.Duration)
	}
	if r.MaxDeliveryAge.Duration > 0 && r.MaxDeliveryAge.Duration < r.RetryMax.Duration {
		bad("relay.max_delivery_age", "%v is shorter than relay.retry_max (%v): a report would get a single late retry", r.MaxDeliveryAge.Duration, r.RetryMax.Duration)
	}
	if r.MaxConnections < 16 || r.MaxConnections > MaxMaxConnections {
		bad("relay.max_connections", "%d: use 16 to %d", r.MaxConnections, MaxMaxConnections)
	}
	if r.DeliveryWorkers < 1 || r.DeliveryWorkers > MaxDeliveryWorkers {
		bad("relay.delivery_workers", "%d: use 1 to %d", r.DeliveryWorkers, MaxDeliveryWorkers)
	}
	checkAddr := func(key, addr string) {
		if addr == "" {
			return
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			bad(key, "%q is not an address like \"127.0.0.1:9101\" or \":443\"", addr)
		}
	}
	checkAddr("relay.listen", r.Listen)
	checkAddr("relay.metrics_listen", r.MetricsListen)
	// Port 0 is a new port each time: two listeners on it do not clash.
	if r.MetricsListen != "" && r.MetricsListen == r.Listen && !strings.HasSuffix(r.Listen, ":0") {
		bad("relay.metrics_listen", "%q is relay.listen too; to serve /metrics on relay.listen, leave it out and set metrics_on_listen = true", r.MetricsListen)
	}
	if r.MetricsListen != "" && r.MetricsOnListen {
		bad("relay.metrics_on_listen", "true, and metrics_listen is set too: choose where /metrics is served")
	}
	if strings.ContainsRune(r.AdminSocket, 0) {
		bad("relay.admin_socket", "contains a NUL byte")
	} else if len(r.AdminSocket) > 100 {
		bad("relay.admin_socket", "%q is longer than a Unix socket path may be (100 bytes here)", r.AdminSocket)
	}
	c.validateTLS(bad)
	for i := range c.Hotlines {
		c.Hotlines[i].validateDelivery(fmt.Sprintf("hotline[%d]", i), bad)
	}
	for i := range c.Sites {
		c.Sites[i].Theme.validate(fmt.Sprintf("site[%d].theme", i), bad)
	}
}

func (c *Config) validateTLS(bad func(key, format string, args ...any)) {
	t := &c.Relay.TLS
	if !t.Enabled() {
		if t.HTTPListen != "" {
			bad("relay.tls.http_listen", "set, but the relay serves no HTTPS: set relay.tls.cert_file and key_file, or acme = true")
		}
		acmeOnly(t, bad)
		return
	}
	pub, _ := url.Parse(c.Relay.PublicURL)
	if pub != nil && pub.Scheme == "http" {
		bad("relay.public_url", "%q is http, but the relay serves HTTPS itself: use https://", c.Relay.PublicURL)
	}
	if t.ACME {
		if t.CertFile != "" || t.KeyFile != "" {
			bad("relay.tls.acme", "true, and cert_file or key_file set too: choose one way to get certificates")
		}
		if len(t.Domains) == 0 {
			bad("relay.tls.domains", "none: list the host names to get certificates for, like [\"report.example.org\"]")
		}
		for _, d := range t.Domains {
			if !hostnamePattern.MatchString(d) {
				bad("relay.tls.domains", "%q is not a lower-case DNS name like \"report.example.org\"", d)
			}
		}
		if pub != nil && pub.Hostname() != "" && !slices.Contains(t.Domains, pub.Hostname()) {
			bad("relay.tls.domains", "does not include %q, the host of relay.public_url", pub.Hostname())
		}
		if t.CacheDir == "" {
			bad("relay.tls.cache_dir", "missing: ACME needs a folder to keep its account key and certificates, like \"/var/lib/reportline-relay/acme\"")
		}
		if t.ACMEDirectory != "" {
			if u, err := url.Parse(t.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
				bad("relay.tls.acme_directory", "%q is not an https URL", t.ACMEDirectory)
			}
		}
		if t.Email != "" && (!strings.Contains(t.Email, "@") || strings.ContainsAny(t.Email, " \t\r\n<>")) {
			bad("relay.tls.email", "%q is not an email address", t.Email)
		}
	} else {
		if t.CertFile == "" || t.KeyFile == "" {
			bad("relay.tls.cert_file", "cert_file and key_file go together: set both, or acme = true")
		}
		acmeOnly(t, bad)
	}
	if t.HTTPListen != "" {
		if _, port, err := net.SplitHostPort(t.HTTPListen); err != nil || port == "" {
			bad("relay.tls.http_listen", "%q is not an address like \":80\"", t.HTTPListen)
		} else if t.HTTPListen == c.Relay.Listen {
			bad("relay.tls.http_listen", "%q is relay.listen too", t.HTTPListen)
		}
	}
	if t.HSTSMaxAge.Duration < 0 {
		bad("relay.tls.hsts_max_age", "%v is negative", t.HSTSMaxAge.Duration)
	}
}

// acmeOnly reports each ACME key that is set while acme is not true.
func acmeOnly(t *TLS, bad func(key, format string, args ...any)) {
	for _, k := range []struct {
		key string
		set bool
	}{
		{"relay.tls.domains", len(t.Domains) > 0}, {"relay.tls.cache_dir", t.CacheDir != ""},
		{"relay.tls.email", t.Email != ""}, {"relay.tls.acme_directory", t.ACMEDirectory != ""},
	} {
		if k.set {
			bad(k.key, "set, but relay.tls.acme is not true")
		}
	}
}

// RemovalServices are the names hotline.removal_services takes.
var RemovalServices = []string{"report_remove"}

// validateDelivery checks how deliveries to the hotline are signed and
// sent, and what its form shows: languages, emergency number, removal
// services.
func (h *Hotline) validateDelivery(key string, bad func(key, format string, args ...any)) {
	switch h.Signature {
	case SignatureEd25519:
		if h.HMACSecretFile != "" {
			bad(key+".hmac_secret_file", "set, but signature is \"v1a\": set signature = \"v1\" to sign with the HMAC secret")
		}
	case SignatureHMAC:
		if h.HMACSecretFile == "" {
			bad(key+".hmac_secret_file", "missing: signature \"v1\" needs the shared whsec_ secret; make one with `relay keygen -hmac -o FILE`")
		}
	default:
		bad(key+".signature", "%q: use \"v1a\" (Ed25519, preferred) or \"v1\" (HMAC)", h.Signature)
	}
	if h.Concurrency < 1 || h.Concurrency > MaxConcurrency {
		bad(key+".concurrency", "%d: use 1 to %d", h.Concurrency, MaxConcurrency)
	}
	if (h.ClientCertFile == "") != (h.ClientKeyFile == "") {
		bad(key+".client_cert_file", "client_cert_file and client_key_file go together: set both or neither")
	}
	if u, err := url.Parse(h.IntakeURL); err == nil && u.Host != "" {
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			bad(key+".intake_url", "%q is plain http to another machine: use https, so the delivery's signature and envelope cannot be read or replayed on the way", h.IntakeURL)
		}
		if u.Scheme == "http" && (h.ClientCertFile != "" || h.IntakeCAFile != "") {
			bad(key+".intake_url", "%q is http, but TLS settings are set for it: use https", h.IntakeURL)
		}
		if u.User != nil {
			bad(key+".intake_url", "holds a user name or password: authenticate with client_cert_file, not credentials in the URL")
		}
	}
	seen := map[string]bool{}
	for _, l := range h.Languages {
		switch {
		case !languagePattern.MatchString(l):
			bad(key+".languages", "%q is not a BCP 47 language tag like \"de\" or \"pt-BR\"", l)
		case seen[strings.ToLower(l)]:
			bad(key+".languages", "%q is listed twice", l)
		}
		seen[strings.ToLower(l)] = true
	}
	if h.EmergencyNumber != "" && !emergencyPattern.MatchString(h.EmergencyNumber) {
		bad(key+".emergency_number", "%q is not a phone number like \"112\" or \"+49 800 1110111\"", h.EmergencyNumber)
	}
	for i, r := range h.RemovalServices {
		switch {
		case r == "take_it_down":
			bad(key+".removal_services", "%q is offered everywhere already: leave it out", r)
		case !slices.Contains(RemovalServices, r):
			bad(key+".removal_services", "%q is not a removal service the form knows: use %s", r, strings.Join(RemovalServices, ", "))
		case slices.Contains(h.RemovalServices[:i], r):
			bad(key+".removal_services", "%q is listed twice", r)
		}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NeedsRestart returns the keys whose new values in c differ from old and
// take effect only when the relay restarts; a reload keeps their old
// values in force.
func (c *Config) NeedsRestart(old *Config) []string {
	a, b := &old.Relay, &c.Relay
	var keys []string
	diff := func(key string, changed bool) {
		if changed {
			keys = append(keys, key)
		}
	}
	diff("relay.listen", a.Listen != b.Listen)
	diff("relay.spool", a.Spool != b.Spool)
	diff("relay.store", a.Store != b.Store)
	// [relay.jetstream] is read only with that store; its ack_wait
	// follows delivery_timeout, which a bbolt relay reloads.
	jetstream := a.Store == StoreJetStream || b.Store == StoreJetStream
	diff("relay.jetstream", jetstream && !reflect.DeepEqual(a.JetStream, b.JetStream))
	diff("relay.assets", a.Assets != b.Assets)
	diff("relay.mailbox", a.Mailbox != b.Mailbox)
	diff("relay.mailbox_retention", a.MailboxRetention != b.MailboxRetention)
	diff("relay.log_format", a.LogFormat != b.LogFormat)
	diff("relay.delivery_workers", a.DeliveryWorkers != b.DeliveryWorkers)
	diff("relay.retry_min", a.RetryMin != b.RetryMin)
	diff("relay.retry_max", a.RetryMax != b.RetryMax)
	diff("relay.max_delivery_age", a.MaxDeliveryAge != b.MaxDeliveryAge)
	diff("relay.shutdown_timeout", a.ShutdownTimeout != b.ShutdownTimeout)
	diff("relay.metrics_listen", a.MetricsListen != b.MetricsListen)
	diff("relay.max_connections", a.MaxConnections != b.MaxConnections)
	diff("relay.metrics_on_listen", a.MetricsOnListen != b.MetricsOnListen)
	diff("relay.admin_socket", a.AdminSocket != b.AdminSocket)
	diff("relay.tls.acme", a.TLS.ACME != b.TLS.ACME)
	diff("relay.tls.domains", !slices.Equal(a.TLS.Domains, b.TLS.Domains))
	diff("relay.tls.cache_dir", a.TLS.CacheDir != b.TLS.CacheDir)
	diff("relay.tls.email", a.TLS.Email != b.TLS.Email)
	diff("relay.tls.acme_directory", a.TLS.ACMEDirectory != b.TLS.ACMEDirectory)
	diff("relay.tls.http_listen", a.TLS.HTTPListen != b.TLS.HTTPListen)
	diff("relay.tls.cert_file", a.TLS.CertFile != b.TLS.CertFile)
	// The proof-of-work and rate-limit state is built once, at start.
	diff("relay.pow", !reflect.DeepEqual(a.PoW, b.PoW))
	diff("relay.limits", !reflect.DeepEqual(a.Limits, b.Limits))
	diff("relay.tls.key_file", a.TLS.KeyFile != b.TLS.KeyFile)
	return keys
}

// usesEd25519 reports whether any hotline's deliveries are signed with the
// relay's Ed25519 key, which then must be configured.
func (c *Config) usesEd25519() bool {
	if len(c.Hotlines) == 0 {
		return true
	}
	for _, h := range c.Hotlines {
		if h.Signature == SignatureEd25519 {
			return true
		}
	}
	return false
}

// validateFrameOrigin checks the origin of a frame the hotline hosts: an
// origin of its own, not the relay's, and served over HTTPS unless on
// loopback, since whoever can change the frame's code on the way can read
// what is typed in it.
func (h *Hotline) validateFrameOrigin(key, publicURL string, bad func(key, format string, args ...any)) {
	if h.FrameOrigin == "" {
		return
	}
	u, err := url.Parse(h.FrameOrigin)
	switch {
	case !IsOrigin(h.FrameOrigin) || err != nil:
		bad(key+".frame_origin", "%q is not an origin: scheme, host and optional port, no path, like \"https://report.hotline.example\"", h.FrameOrigin)
	case h.FrameOrigin == publicURL:
		bad(key+".frame_origin", "%q is the relay's own origin: leave frame_origin out for the frame the relay serves, or give the origin of the folder `hotline publish` wrote", h.FrameOrigin)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		bad(key+".frame_origin", "%q is plain http: the frame's code must reach the browser unchanged, so serve it over https", h.FrameOrigin)
	}
}

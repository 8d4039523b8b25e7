// Package config reads and validates the relay's configuration file, as
// specified in docs/config.md.
//
// The file is TOML: one [relay] table, a [[hotline]] table per hotline and a
// [[site]] table per partner site. It is parsed once into [Config] and
// checked as a whole; a bad value is an error that names the key and says
// why, so the relay does not start half-configured.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// Config is the relay's whole configuration.
type Config struct {
	Relay    Relay     `toml:"relay"`
	Hotlines []Hotline `toml:"hotline"`
	Sites    []Site    `toml:"site"`

	// overridden maps a key set by an Override to its source, so that an
	// error about the value names where it came from.
	overridden map[string]string
}

// Relay holds the settings of the relay process itself.
type Relay struct {
	// Listen is the address to serve HTTP on, "127.0.0.1:8081".
	Listen string `toml:"listen"`
	// PublicURL is the relay's origin as browsers reach it.
	PublicURL string `toml:"public_url"`
	// Store is where reports wait for delivery: StoreBbolt (the file
	// Spool) or StoreJetStream (the cluster in JetStream).
	Store string `toml:"store"`
	// Spool is the path of the durable report store, with StoreBbolt.
	Spool string `toml:"spool"`
	// JetStream is the NATS cluster, with StoreJetStream.
	JetStream JetStream `toml:"jetstream"`
	// Mailbox, if set, is where the hotlines' sealed replies to reporters
	// are kept (docs/follow-up.md): with StoreBbolt the path of a file,
	// with StoreJetStream MailboxJetStream (the cluster); empty turns
	// follow-up off.
	Mailbox string `toml:"mailbox"`
	// MailboxRetention is how long an unread reply is kept ("2160h").
	MailboxRetention Duration `toml:"mailbox_retention"`
	// Assets is the folder with the built widget.wasm and wasm_exec.js.
	Assets string `toml:"assets"`
	// SigningKeyFile holds the relay's delivery signing key ("whsk_…").
	SigningKeyFile string `toml:"signing_key_file"`
	// LogFormat is "json" or "text".
	LogFormat string `toml:"log_format"`
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string `toml:"log_level"`
	// MaxDeliveryAge is how long a report is retried before it is moved
	// to the dead-letter area ("120h").
	MaxDeliveryAge Duration `toml:"max_delivery_age"`
	// RetryMin is the delay after a first failed delivery; it doubles
	// with each further failure, up to RetryMax ("5s").
	RetryMin Duration `toml:"retry_min"`
	// RetryMax caps the delay between two delivery attempts ("1h").
	RetryMax Duration `toml:"retry_max"`
	// DeliveryTimeout bounds one delivery attempt, from connecting to
	// the intake to reading its answer ("30s").
	DeliveryTimeout Duration `toml:"delivery_timeout"`
	// DeliveryWorkers bounds the deliveries under way at once, over all
	// hotlines; each hotline has its own bound too (Hotline.Concurrency).
	DeliveryWorkers int `toml:"delivery_workers"`
	// ShutdownTimeout is how long a stopping relay waits for requests in
	// flight and deliveries under way to finish ("30s").
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	// MetricsListen, if set, is a separate address for /metrics (and
	// /healthz, /readyz). /metrics is never served on Listen unless
	// MetricsOnListen says so: its counters tell anyone when each report
	// arrives, and tell a bot that the honeypot caught it.
	MetricsListen string `toml:"metrics_listen"`
	// MetricsOnListen serves /metrics on Listen, for a relay that is
	// reached only through a proxy that denies the path to the public.
	MetricsOnListen bool `toml:"metrics_on_listen"`
	// MaxConnections bounds the connections held open on each listener;
	// at the bound, the one waiting longest without a request is closed
	// for a new one (httpedge.ConnLimit).
	MaxConnections int `toml:"max_connections"`
	// AdminSocket, if set, is the path of a Unix socket on which the
	// running relay answers `relay spool` commands.
	AdminSocket string `toml:"admin_socket"`
	// TLS makes the relay serve HTTPS itself.
	TLS TLS `toml:"tls"`
	// PoW is the proof of work asked of each report; see docs/abuse.md.
	PoW PoW `toml:"pow"`
	// Limits are the rate limits and global ceilings; see docs/abuse.md.
	Limits Limits `toml:"limits"`
}

// TLS holds the settings for serving HTTPS, from certificate files or
// through ACME. Without them the relay serves plain HTTP, for a reverse
// proxy in front of it to terminate TLS.
type TLS struct {
	// CertFile and KeyFile are PEM files; they are read again on SIGHUP,
	// so a renewed certificate needs no restart.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// ACME gets and renews certificates automatically for Domains.
	ACME bool `toml:"acme"`
	// Domains are the host names ACME may get certificates for.
	Domains []string `toml:"domains"`
	// CacheDir keeps ACME account keys and certificates across restarts.
	CacheDir string `toml:"cache_dir"`
	// Email is given to the ACME CA for expiry notices; optional.
	Email string `toml:"email"`
	// ACMEDirectory is the ACME CA's directory URL; empty means Let's
	// Encrypt's production CA.
	ACMEDirectory string `toml:"acme_directory"`
	// HTTPListen, if set, serves plain HTTP there, redirecting every
	// request to public_url (and answering ACME HTTP-01 challenges).
	HTTPListen string `toml:"http_listen"`
	// HSTSMaxAge is the max-age of the Strict-Transport-Security header
	// sent on HTTPS responses ("8760h").
	HSTSMaxAge Duration `toml:"hsts_max_age"`
}

// Enabled reports whether the relay serves HTTPS itself.
func (t *TLS) Enabled() bool { return t.ACME || t.CertFile != "" || t.KeyFile != "" }

// Hotline is one hotline the relay delivers to.
type Hotline struct {
	ID        string `toml:"id"`
	Name      string `toml:"name"`
	IntakeURL string `toml:"intake_url"`
	// Statement is the hotline's key statement, signed with its offline
	// key (docs/key-statement.md): the recipients reports are sealed to.
	Statement string `toml:"statement"`
	// StatementKey is the hotline's "hlvk_…" key the statement verifies
	// against.
	StatementKey string `toml:"statement_key"`
	// Recipients are bare age recipients, for a hotline that has not
	// signed a statement yet; the report form does not seal to them.
	Recipients []string `toml:"recipients"`
	// Categories are the report categories in the hotline's remit; empty
	// means all of report.Categories.
	Categories      []string `toml:"categories"`
	EmergencyNumber string   `toml:"emergency_number"`
	// ReportPage is the hotline's own report page, linked for visitors
	// without JavaScript.
	ReportPage string `toml:"report_page"`
	// Languages are the BCP 47 tags of the languages the hotline takes
	// reports in, preferred first.
	Languages []string `toml:"languages"`
	// RemovalServices are the services the form's under-18 section offers
	// a child for getting their own sexual images removed, besides Take It
	// Down, which it offers everywhere: "report_remove" (Childline and the
	// IWF, for children in the UK).
	RemovalServices []string `toml:"removal_services"`
	// FrameOrigin, if set, is the origin where the hotline serves the
	// report frame itself, from the folder `hotline publish` writes
	// (docs/deployment.md): the report API answers that origin's
	// requests (CORS), and the relay no longer serves the hotline's frame.
	FrameOrigin string `toml:"frame_origin"`
	// UrgentMarker, unless false, lets the form mark a report the
	// reporter called urgent with a header the relay can read, so that it
	// is delivered ahead of the queue; see docs/threat-model.md for what
	// that tells the relay. Use [Hotline.Urgent].
	UrgentMarker *bool `toml:"urgent_marker"`
	// Signature is the Standard Webhooks scheme deliveries are signed
	// with: "v1a" (Ed25519, with relay.signing_key_file) or "v1"
	// (HMAC-SHA256, with HMACSecretFile).
	Signature string `toml:"signature"`
	// HMACSecretFile holds the "whsec_" secret shared with the intake,
	// for Signature "v1".
	HMACSecretFile string `toml:"hmac_secret_file"`
	// Concurrency bounds the deliveries under way to this hotline.
	Concurrency int `toml:"concurrency"`
	// ClientCertFile and ClientKeyFile, if set, are the PEM certificate
	// and key the relay presents to the intake (mutual TLS).
	ClientCertFile string `toml:"client_cert_file"`
	ClientKeyFile  string `toml:"client_key_file"`
	// IntakeCAFile, if set, is a PEM bundle of the CAs trusted for the
	// intake's server certificate, instead of the system's.
	IntakeCAFile string `toml:"intake_ca_file"`

	recipients *report.Recipients
	statement  *statement.Statement
}

// Site is one partner site that embeds the button.
type Site struct {
	ID      string   `toml:"id"`
	Hotline string   `toml:"hotline"`
	Origins []string `toml:"origins"`
	// Theme is how the loader draws the button on the site's pages.
	Theme Theme `toml:"theme"`
}

// Duration is a time.Duration written as "90s", "5m", "120h".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration like \"90s\" or \"120h\": %q", b)
	}
	d.Duration = v
	return nil
}

// ParsedRecipients returns the hotline's age recipients, parsed by Validate.
func (h *Hotline) ParsedRecipients() *report.Recipients { return h.recipients }

// Form returns the report form restricted to the hotline's remit.
func (h *Hotline) Form() *report.Form {
	if len(h.Categories) == 0 {
		return report.DefaultForm()
	}
	return report.DefaultForm().WithCategories(h.Categories)
}

// Load reads and validates the configuration file at path, with the
// overrides (from flags and environment variables) applied on top of it.
func Load(path string, overrides ...Override) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read config: %w", err)
	}
	return parse(b, filepath.Dir(path), overrides)
}

// Parse decodes and validates a configuration from TOML, with the
// overrides applied on top of it.
func Parse(b []byte, overrides ...Override) (*Config, error) {
	return parse(b, "", overrides)
}

// parse is Parse with the paths the file names taken from dir, the
// folder of the file, unless dir is empty.
func parse(b []byte, dir string, overrides []Override) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		if derr := decodeError(string(b), err); derr != nil {
			return nil, derr
		}
		if serr := syntaxError(string(b), err); serr != nil {
			return nil, serr
		}
		return nil, fmt.Errorf("failed to parse config: %w", err)
	}
	if err := unknownKeys(string(b), md.Undecoded()); err != nil {
		return nil, err
	}
	if dir != "" {
		c.resolvePaths(dir)
	}
	if err := c.apply(overrides); err != nil {
		return nil, err
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) defaults() {
	c.Relay.PublicURL = normalizeOrigin(c.Relay.PublicURL)
	for i := range c.Hotlines {
		if h := &c.Hotlines[i]; h.FrameOrigin != "" {
			h.FrameOrigin = normalizeOrigin(h.FrameOrigin)
		}
	}
	if c.Relay.Listen == "" {
		c.Relay.Listen = "127.0.0.1:8081"
	}
	if c.Relay.LogFormat == "" {
		c.Relay.LogFormat = "json"
	}
	if c.Relay.LogLevel == "" {
		c.Relay.LogLevel = "info"
	}
	if c.Relay.MaxDeliveryAge.Duration == 0 {
		c.Relay.MaxDeliveryAge.Duration = 7 * 24 * time.Hour
	}
	if c.Relay.MailboxRetention.Duration == 0 {
		c.Relay.MailboxRetention.Duration = 90 * 24 * time.Hour
	}
	if c.Relay.RetryMin.Duration == 0 {
		c.Relay.RetryMin.Duration = 5 * time.Second
	}
	c.optionDefaults()
	c.abuseDefaults()
	c.storeDefaults()
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate checks every value and returns an error naming the first bad
// one and why it is bad.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s%s", key, fmt.Sprintf(format, args...), c.setBy(key)))
	}
	r := &c.Relay
	if r.PublicURL == "" {
		bad("relay.public_url", "missing: set the origin browsers use to reach the relay, like \"https://report.example.org\"")
	} else if !IsOrigin(r.PublicURL) {
		bad("relay.public_url", "%q is not an origin like \"https://report.example.org\": a scheme, a host and an optional port, "+
			"without a path, query or user name", r.PublicURL)
	}
	c.validateStore(bad)
	if r.Assets == "" {
		bad("relay.assets", "missing: set the folder with widget.wasm and wasm_exec.js (made by `make build`)")
	}
	if r.SigningKeyFile == "" && c.usesEd25519() {
		bad("relay.signing_key_file", "missing: make one with `relay keygen -o FILE`")
	}
	if !slices.Contains([]string{"json", "text"}, r.LogFormat) {
		bad("relay.log_format", "%q: use \"json\" or \"text\"", r.LogFormat)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, r.LogLevel) {
		bad("relay.log_level", "%q: use debug, info, warn or error", r.LogLevel)
	}
	hotlines := map[string]bool{}
	if len(c.Hotlines) == 0 {
		bad("hotline", "none configured: add a [[hotline]] table")
	}
	for i := range c.Hotlines {
		h := &c.Hotlines[i]
		key := fmt.Sprintf("hotline[%d]", i)
		if !idPattern.MatchString(h.ID) {
			bad(key+".id", "%q: use 1-63 lower-case letters, digits and dashes", h.ID)
		} else if hotlines[h.ID] {
			bad(key+".id", "%q is used twice", h.ID)
		}
		hotlines[h.ID] = true
		if u, err := url.Parse(h.IntakeURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(key+".intake_url", "%q is not an http(s) URL", h.IntakeURL)
		}
		h.validateKeys(key, time.Now(), bad)
		for _, cat := range h.Categories {
			if !report.KnownCategory(cat) {
				bad(key+".categories", "%q is not a category; known: %s", cat, strings.Join(report.Categories, ", "))
			}
		}
		h.validateFrameOrigin(key, r.PublicURL, bad)
		if h.ReportPage != "" {
			if u, err := url.Parse(h.ReportPage); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				bad(key+".report_page", "%q is not an http(s) URL", h.ReportPage)
			}
		}
	}
	sites := map[string]bool{}
	for i, s := range c.Sites {
		key := fmt.Sprintf("site[%d]", i)
		if !idPattern.MatchString(s.ID) {
			bad(key+".id", "%q: use 1-63 lower-case letters, digits and dashes", s.ID)
		} else if sites[s.ID] {
			bad(key+".id", "%q is used twice", s.ID)
		}
		sites[s.ID] = true
		if !hotlines[s.Hotline] {
			bad(key+".hotline", "%q is not the id of a [[hotline]]", s.Hotline)
		}
		if len(s.Origins) == 0 {
			bad(key+".origins", "none: list the partner's origins, like [\"https://www.example.org\"]")
		}
		for _, o := range s.Origins {
			if !IsOrigin(o) {
				bad(key+".origins", "%q is not an origin: scheme, host and optional port, no path, like \"https://www.example.org\"", o)
			}
		}
	}
	c.validateOptions(bad)
	c.validateAbuse(bad)
	return errors.Join(errs...)
}

// normalizeOrigin writes an http(s) URL that names an origin as browsers
// send it in the Origin header: the scheme and host in lower case, without
// the scheme's default port and without a trailing slash. The relay
// compares that header with relay.public_url byte for byte, so
// "https://Report.example.org:443/" must become
// "https://report.example.org". Anything else is returned unchanged, for
// Validate to refuse.
func normalizeOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return s
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	u = &url.URL{Scheme: u.Scheme, Host: host}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	}
	return u.String()
}

// IsOrigin reports whether s is a serialized http(s) origin.
func IsOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil && s == u.Scheme+"://"+u.Host
}

// Site returns the site with the given id, or nil.
func (c *Config) Site(id string) *Site {
	for i := range c.Sites {
		if c.Sites[i].ID == id {
			return &c.Sites[i]
		}
	}
	return nil
}

// Hotline returns the hotline with the given id, or nil.
func (c *Config) Hotline(id string) *Hotline {
	for i := range c.Hotlines {
		if c.Hotlines[i].ID == id {
			return &c.Hotlines[i]
		}
	}
	return nil
}

// placeholder reports whether a recipient is an example's stand-in
// ("age1pq1...") rather than a key someone pasted.
func placeholder(k string) bool {
	return strings.Contains(k, "...") || strings.Contains(k, "…")
}

// Urgent reports whether the relay takes the form's urgent marker for
// this hotline (hotline.urgent_marker, on unless set to false).
func (h *Hotline) Urgent() bool { return h.UrgentMarker == nil || *h.UrgentMarker }

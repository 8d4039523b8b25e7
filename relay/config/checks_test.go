package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFullConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "full.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Relay
	if r.RetryMax.Duration != 2*time.Hour || r.DeliveryTimeout.Duration != 20*time.Second || r.DeliveryWorkers != 16 ||
		r.ShutdownTimeout.Duration != 45*time.Second || r.MetricsListen != "127.0.0.1:9101" || r.AdminSocket == "" {
		t.Errorf("relay keys: %+v", r)
	}
	if !r.TLS.Enabled() || !r.TLS.ACME || r.TLS.Domains[0] != "report.example.org" || r.TLS.HTTPListen != "0.0.0.0:8080" ||
		r.TLS.HSTSMaxAge.Duration != 17520*time.Hour || r.TLS.Email == "" || r.TLS.ACMEDirectory == "" || r.TLS.CacheDir == "" {
		t.Errorf("tls keys: %+v", r.TLS)
	}
	h := c.Hotlines[0]
	if h.Signature != "v1" || h.HMACSecretFile == "" || h.Concurrency != 4 || h.ClientCertFile == "" || h.ClientKeyFile == "" ||
		h.IntakeCAFile == "" || !slices.Equal(h.Languages, []string{"de", "en", "tr"}) || !slices.Equal(h.RemovalServices, []string{"report_remove"}) {
		t.Errorf("hotline keys: %+v", h)
	}
	if h.FrameOrigin != "https://frame.example.org" {
		t.Errorf("frame_origin %q; want it as browsers send it in Origin", h.FrameOrigin)
	}
	if th := c.Sites[0].Theme; th.Color != "#1a4d8f" || th.Position != "bottom-left" || th.Label != "Missbrauch melden" {
		t.Errorf("theme %+v; want the colour in lower case", th)
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := Parse([]byte(validTOML(t)))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Relay
	if r.RetryMax.Duration != DefaultRetryMax || r.DeliveryTimeout.Duration != DefaultDeliveryTimeout ||
		r.DeliveryWorkers != DefaultDeliveryWorkers || r.ShutdownTimeout.Duration != DefaultShutdownTimeout || r.TLS.Enabled() {
		t.Errorf("relay defaults: %+v", r)
	}
	h := c.Hotlines[0]
	if h.Signature != SignatureEd25519 || h.Concurrency != DefaultConcurrency || !slices.Equal(h.Languages, []string{"en"}) || len(h.RemovalServices) != 0 {
		t.Errorf("hotline defaults: %+v", h)
	}
	if th := c.Sites[0].Theme; th.Color != DefaultColor || th.Position != DefaultPosition || th.Label != "" {
		t.Errorf("theme defaults: %+v", th)
	}
}

func TestOptionErrorsNameTheKey(t *testing.T) {
	good := validTOML(t)
	const relayEnd = `signing_key_file = "relay.key"`
	const hotlineEnd = `categories = ["csam", "grooming"]`
	const siteEnd = `origins = ["https://www.example.org", "http://localhost:8080"]`
	tests := []edit{
		{"theme colour name", siteEnd, siteEnd + "\n[site.theme]\ncolor = \"red\"", `site[0].theme.color: "red" is not a colour`},
		{"theme colour short", siteEnd, siteEnd + "\n[site.theme]\ncolor = \"#fff\"", `site[0].theme.color`},
		{"theme colour pale", siteEnd, siteEnd + "\n[site.theme]\ncolor = \"#ffee00\"", `contrast`},
		{"theme position", siteEnd, siteEnd + "\n[site.theme]\nposition = \"middle\"", `site[0].theme.position: "middle": use one of bottom-right`},
		{"theme label long", siteEnd, siteEnd + "\n[site.theme]\nlabel = \"" + strings.Repeat("x", 61) + "\"", `site[0].theme.label`},
		{"theme label control", siteEnd, siteEnd + "\n[site.theme]\nlabel = \"a\\u0007b\"", `control character`},
		{"theme unknown key", siteEnd, siteEnd + "\n[site.theme]\ncolour = \"#000000\"", `unknown key "site.theme.colour"`},
		{"signature", hotlineEnd, hotlineEnd + "\nsignature = \"v2\"", `hotline[0].signature: "v2"`},
		{"v1 without secret", hotlineEnd, hotlineEnd + "\nsignature = \"v1\"", `hotline[0].hmac_secret_file: missing`},
		{"secret without v1", hotlineEnd, hotlineEnd + "\nhmac_secret_file = \"x\"", `hotline[0].hmac_secret_file: set, but signature is "v1a"`},
		{"concurrency", hotlineEnd, hotlineEnd + "\nconcurrency = 1000", `hotline[0].concurrency: 1000`},
		{"cert without key", hotlineEnd, hotlineEnd + "\nclient_cert_file = \"c.pem\"", `hotline[0].client_cert_file`},
		{"language", hotlineEnd, hotlineEnd + "\nlanguages = [\"german\"]", `hotline[0].languages: "german"`},
		{"language twice", hotlineEnd, hotlineEnd + "\nlanguages = [\"de\", \"DE\"]", `listed twice`},
		{"removal service", hotlineEnd, hotlineEnd + "\nremoval_services = [\"report-remove\"]", `hotline[0].removal_services: "report-remove" is not a removal service the form knows: use report_remove`},
		{"removal service twice", hotlineEnd, hotlineEnd + "\nremoval_services = [\"report_remove\", \"report_remove\"]", `hotline[0].removal_services: "report_remove" is listed twice`},
		{"take it down listed", hotlineEnd, hotlineEnd + "\nremoval_services = [\"take_it_down\"]", `hotline[0].removal_services: "take_it_down" is offered everywhere already`},
		{"removal services not a list", hotlineEnd, hotlineEnd + "\nremoval_services = \"report_remove\"", `removal_services`},
		{"frame origin with a path", hotlineEnd, hotlineEnd + "\nframe_origin = \"https://frame.example.org/w/\"", `hotline[0].frame_origin: "https://frame.example.org/w/" is not an origin`},
		{"frame origin the relay's", hotlineEnd, hotlineEnd + "\nframe_origin = \"https://Report.example.org:443\"", `hotline[0].frame_origin: "https://report.example.org" is the relay's own origin`},
		{"frame origin plain http", hotlineEnd, hotlineEnd + "\nframe_origin = \"http://frame.example.org\"", `hotline[0].frame_origin: "http://frame.example.org" is plain http`},
		{"emergency", hotlineEnd, hotlineEnd + "\nemergency_number = \"call us\"", `hotline[0].emergency_number`},
		{"plain http intake", `https://intake.example.org`, `http://intake.example.org`, `hotline[0].intake_url: "http://intake.example.org/v1/deliveries" is plain http`},
		{"retry order", relayEnd, relayEnd + "\nretry_min = \"2h\"", `relay.retry_min: 2h0m0s is longer than relay.retry_max`},
		{"max age short", relayEnd, relayEnd + "\nmax_delivery_age = \"10m\"", `relay.max_delivery_age`},
		{"workers", relayEnd, relayEnd + "\ndelivery_workers = -1", `relay.delivery_workers`},
		{"metrics listen", relayEnd, relayEnd + "\nmetrics_listen = \"9101\"", `relay.metrics_listen`},
		{"tls both", relayEnd, relayEnd + "\n[relay.tls]\nacme = true\ncert_file = \"c\"\nkey_file = \"k\"\ndomains = [\"report.example.org\"]\ncache_dir = \"acme\"", `choose one way`},
		{"tls cert alone", relayEnd, relayEnd + "\n[relay.tls]\ncert_file = \"c\"", `relay.tls.cert_file: cert_file and key_file go together`},
		{"acme no domains", relayEnd, relayEnd + "\n[relay.tls]\nacme = true\ncache_dir = \"acme\"", `relay.tls.domains: none`},
		{"acme wrong domain", relayEnd, relayEnd + "\n[relay.tls]\nacme = true\ncache_dir = \"acme\"\ndomains = [\"other.example.org\"]", `does not include "report.example.org"`},
		{"acme no cache", relayEnd, relayEnd + "\n[relay.tls]\nacme = true\ndomains = [\"report.example.org\"]", `relay.tls.cache_dir: missing`},
		{"acme keys without acme", relayEnd, relayEnd + "\n[relay.tls]\ndomains = [\"report.example.org\"]", `relay.tls.domains: set, but relay.tls.acme is not true`},
		{"redirect without tls", relayEnd, relayEnd + "\n[relay.tls]\nhttp_listen = \":80\"", `relay.tls.http_listen: set, but the relay serves no HTTPS`},
	}
	checkEdits(t, good, tests)
}

func TestTLSNeedsHTTPSOrigin(t *testing.T) {
	in := strings.Replace(validTOML(t), `"https://report.example.org"`, `"http://report.example.org"`, 1) +
		"\n[relay.tls]\ncert_file = \"c\"\nkey_file = \"k\"\n"
	_, err := Parse([]byte(in))
	if err == nil || !strings.Contains(err.Error(), `relay.public_url: "http://report.example.org" is http, but the relay serves HTTPS itself`) {
		t.Fatalf("err = %v", err)
	}
}

func TestV1OnlyNeedsNoSigningKey(t *testing.T) {
	in := strings.Replace(validTOML(t), `signing_key_file = "relay.key"`, "", 1)
	if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), "relay.signing_key_file") {
		t.Fatalf("v1a without a signing key: %v", err)
	}
	in = strings.Replace(in, `categories = ["csam", "grooming"]`, "signature = \"v1\"\nhmac_secret_file = \"h.whsec\"", 1)
	if _, err := Parse([]byte(in)); err != nil {
		t.Fatalf("a relay whose hotlines all use v1 needs no Ed25519 key: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	env := map[string]string{"RELAY_LISTEN": "127.0.0.1:9999", "RELAY_LOG_LEVEL": "debug", "RELAY_TLS_DOMAINS": "report.example.org, x.example.org"}
	ov := EnvOverrides(func(k string) string { return env[k] })
	if len(ov) != 3 {
		t.Fatalf("EnvOverrides = %+v", ov)
	}
	// A flag given after the environment wins.
	ov = append(ov, Override{Key: "relay.listen", Value: "127.0.0.1:7777", Source: "-listen"})
	c, err := Parse([]byte(validTOML(t)), ov...)
	if err == nil || !strings.Contains(err.Error(), "relay.tls.domains: set, but relay.tls.acme is not true (set by RELAY_TLS_DOMAINS)") {
		t.Fatalf("err = %v; want the ACME error naming its environment variable", err)
	}
	ov = append(ov, Override{Key: "relay.tls.domains", Value: "", Source: "-tls-domains"})
	if c, err = Parse([]byte(validTOML(t)), ov...); err != nil {
		t.Fatal(err)
	}
	if c.Relay.Listen != "127.0.0.1:7777" || c.Relay.LogLevel != "debug" || len(c.Relay.TLS.Domains) != 0 {
		t.Errorf("overrides not applied: %+v", c.Relay)
	}
	if got := c.Overridden(); got["relay.listen"] != "-listen" || got["relay.log_level"] != "RELAY_LOG_LEVEL" {
		t.Errorf("Overridden = %v", got)
	}
	for _, tt := range []struct {
		o    Override
		want string
	}{
		{Override{"relay.log_format", "xml", "RELAY_LOG_FORMAT"}, `relay.log_format: "xml": use "json" or "text" (set by RELAY_LOG_FORMAT)`},
		{Override{"relay.retry_min", "soon", "-retry-min"}, `relay.retry_min: not a duration like "90s" or "120h": "soon" (set by -retry-min)`},
		{Override{"relay.tls.acme", "yes please", "RELAY_TLS_ACME"}, `relay.tls.acme: not a boolean`},
		{Override{"relay.delivery_workers", "many", "RELAY_DELIVERY_WORKERS"}, `not a whole number`},
		{Override{"hotline.id", "x", "-x"}, `hotline.id: cannot be overridden`},
	} {
		if _, err := Parse([]byte(validTOML(t)), tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.o, err, tt.want)
		}
	}
}

func TestOverrideKeyNames(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range OverrideKeys {
		if !strings.HasPrefix(k.Env, "RELAY_") || k.Flag == "" || strings.ContainsAny(k.Flag, "._") || k.Usage == "" {
			t.Errorf("badly named override %+v", k)
		}
		if seen[k.Env] || seen[k.Flag] {
			t.Errorf("duplicate override name %+v", k)
		}
		seen[k.Env], seen[k.Flag] = true, true
	}
	if i := indexKey("relay.tls.cert_file"); i < 0 || OverrideKeys[i].Env != "RELAY_TLS_CERT_FILE" || OverrideKeys[i].Flag != "tls-cert-file" {
		t.Errorf("relay.tls.cert_file named %+v", OverrideKeys[i])
	}
}

func TestNeedsRestart(t *testing.T) {
	a, err := Parse([]byte(validTOML(t)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse([]byte(validTOML(t)), Override{"relay.listen", "127.0.0.1:1", "test"}, Override{"relay.log_level", "debug", "test"})
	if got := b.NeedsRestart(a); !slices.Equal(got, []string{"relay.listen"}) {
		t.Errorf("NeedsRestart = %v, want only relay.listen (log_level applies on reload)", got)
	}
	// delivery_timeout applies on reload; the JetStream ack_wait it sets
	// by default is no concern of a relay on a bbolt spool.
	c, _ := Parse([]byte(validTOML(t)), Override{"relay.delivery_timeout", "20s", "test"})
	if got := c.NeedsRestart(a); len(got) != 0 {
		t.Errorf("NeedsRestart after delivery_timeout changed = %v, want none", got)
	}
}

func TestContrast(t *testing.T) {
	for hex, want := range map[string]float64{"#000000": 21, "#ffffff": 1, "#b00020": 7.4} {
		if got := contrastWithWhite(hex); got < want-0.1 || got > want+0.1 {
			t.Errorf("contrastWithWhite(%s) = %.2f, want %.1f", hex, got, want)
		}
	}
}

// The example in examples/ and the copy the tests read must not drift.
func TestExampleCopyInSync(t *testing.T) {
	a, err1 := os.ReadFile(filepath.Join("..", "..", "examples", "relay.example.toml"))
	if err1 != nil {
		t.Fatal(err1)
	}
	if !bytes.Equal(a, Example) {
		t.Error("examples/relay.example.toml and relay/config/example.toml differ: copy the first over the second")
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/relay/config"
)

// hotlineConfig returns a configuration with one hotline, h1, at url, with
// extra lines in its table.
func hotlineConfig(t *testing.T, dir, url, extra string) *config.Config {
	t.Helper()
	sk, _, _ := delivery.GenerateEd25519()
	keyFile := filepath.Join(dir, "relay.key")
	os.WriteFile(keyFile, []byte("# test\n"+sk+"\n"), 0o600)
	id, _ := age.GenerateX25519Identity()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
[relay]
public_url = "https://report.example.org"
spool = "x"
assets = "x"
signing_key_file = %q
[[hotline]]
id = "h1"
intake_url = %q
recipients = [%q]
%s
`, keyFile, url, id.Recipient().String(), extra)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEndpointsErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	cfg := hotlineConfig(t, dir, "https://intake.example.org/", "")
	if eps, err := endpoints(cfg); err != nil || eps["h1"].Signer == nil || eps["h1"].Concurrency != config.DefaultConcurrency {
		t.Fatalf("endpoints = %+v, %v", eps, err)
	}
	os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not pem"), 0o600)
	for extra, want := range map[string]string{
		"signature = \"v1\"\nhmac_secret_file = \"" + filepath.Join(dir, "none") + "\"":         "hotline[0] (h1): hmac_secret_file: read key file",
		"signature = \"v1\"\nhmac_secret_file = \"" + filepath.Join(dir, "relay.key") + "\"":    "hmac_secret_file: new hmac signer",
		"intake_ca_file = \"" + filepath.Join(dir, "bad.pem") + "\"":                            "intake_ca_file: " + filepath.Join(dir, "bad.pem") + " holds no PEM certificate",
		"client_cert_file = \"" + filepath.Join(dir, "bad.pem") + "\"\nclient_key_file = \"x\"": "client_cert_file, client_key_file",
	} {
		_, err := endpoints(hotlineConfig(t, dir, "https://intake.example.org/", extra))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", extra, err, want)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "relay.key")); err != nil && strings.Contains(err.Error(), strings.TrimSpace(strings.Split(string(b), "\n")[1])) {
			t.Errorf("error shows key material: %v", err)
		}
	}
	cfg.Relay.SigningKeyFile = filepath.Join(dir, "missing.key")
	if _, err := endpoints(cfg); err == nil || !strings.Contains(err.Error(), "relay.signing_key_file") {
		t.Errorf("missing signing key: %v", err)
	}
}

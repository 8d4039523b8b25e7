package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/statement"
)

// writeSigned writes s's configuration with a key statement for h1 signed
// by k (edit, if set, changes the statement's text after signing), with
// vk as the statement key.
func (s *setup) writeSigned(t *testing.T, k *statement.SigningKey, vk, hotline string, serial uint64, from, until time.Time, edit func(string) string) {
	t.Helper()
	text, err := k.Sign(&statement.Statement{Hotline: hotline, Serial: serial, ValidFrom: from, ValidUntil: until, Recipients: []string{s.recipient}})
	if err != nil {
		t.Fatal(err)
	}
	st := string(text)
	if edit != nil {
		st = edit(st)
	}
	s.writeConfig(t, s.relaySection("")+fmt.Sprintf(`
[[hotline]]
id = "h1"
intake_url = "http://127.0.0.1:9/v1/deliveries"
statement_key = %q
statement = '''
%s'''

[[site]]
id = "s1"
hotline = "h1"
origins = ["https://partner.example"]
`, vk, st))
}

// check-config verifies the hotline's statement and names what is wrong
// with one it refuses.
func TestCheckConfigStatement(t *testing.T) {
	s := newSetup(t)
	k, _ := statement.GenerateKey()
	other, _ := statement.GenerateKey()
	now := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	s.writeSigned(t, k, k.VerificationKey(), "h1", 3, now.Add(-day), now.Add(30*day), nil)
	var out bytes.Buffer
	if err := checkConfig(&out, []string{s.cfgPath}); err != nil {
		t.Fatal(err)
	}
	if want := "key statement serial 3, 1 recipients, signed by " + k.VerificationKey(); !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	extra, _ := age.GenerateX25519Identity()
	for _, tc := range []struct {
		name    string
		k       *statement.SigningKey
		hotline string
		from    time.Time
		until   time.Time
		edit    func(string) string
		want    string
	}{
		{"expired", k, "h1", now.Add(-30 * day), now.Add(-day), nil, "key statement expired: valid until"},
		{"mis-signed", other, "h1", now.Add(-day), now.Add(day), nil, "signature does not verify"},
		{"another hotline's", k, "h2", now.Add(-day), now.Add(day), nil, `names hotline "h2", not "h1"`},
		{"a recipient added", k, "h1", now.Add(-day), now.Add(day), func(st string) string {
			return strings.Replace(st, "signature ", "recipient "+extra.Recipient().String()+"\nsignature ", 1)
		}, "signature does not verify"},
	} {
		s.writeSigned(t, tc.k, k.VerificationKey(), tc.hotline, 3, tc.from, tc.until, tc.edit)
		err := checkConfig(&out, []string{s.cfgPath})
		if err == nil || !strings.Contains(err.Error(), "hotline[0].statement") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want hotline[0].statement: …%s…", tc.name, err, tc.want)
		}
	}
}

// A reload refuses a statement with a lower serial than the one in force,
// and takes a higher one.
func TestReloadRefusesRollback(t *testing.T) {
	s := newSetup(t)
	k, _ := statement.GenerateKey()
	now := time.Now().UTC().Truncate(time.Second)
	s.writeSigned(t, k, k.VerificationKey(), "h1", 5, now.Add(-time.Hour), now.Add(time.Hour), nil)
	r := start(t, s)
	s.writeSigned(t, k, k.VerificationKey(), "h1", 4, now.Add(-time.Hour), now.Add(time.Hour), nil)
	r.reload <- syscall.SIGHUP
	waitFor(t, "the refused reload", func() bool { return strings.Contains(r.logs.String(), "reload failed") })
	if logs := r.logs.String(); !strings.Contains(logs, "serial 4 is lower than 5") {
		t.Fatalf("the log does not say why:\n%s", logs)
	}
	s.writeSigned(t, k, k.VerificationKey(), "h1", 6, now.Add(-time.Hour), now.Add(time.Hour), nil)
	r.reload <- syscall.SIGHUP
	waitFor(t, "the next reload", func() bool { return strings.Contains(r.logs.String(), "configuration reloaded") })
}

// check-config says where the transition from ALTCHA version 1 stands.
func TestCheckConfigProofOfWork(t *testing.T) {
	s := newSetup(t)
	for _, tc := range []struct{ extra, want string }{
		{"", "proof of work: ALTCHA version 2, PBKDF2/SHA-256 cost 10000, difficulty 400 (up to 3200 under load); version 1 still accepted, without an end date"},
		{"[relay.pow]\ncost = 20000\naccept_v1_until = \"2999-01-01\"", "cost 20000, difficulty 400 (up to 3200 under load); version 1 accepted until 2999-01-01T00:00:00Z"},
		{"[relay.pow]\naccept_v1_until = \"2020-01-01T12:00:00Z\"", "version 1 no longer accepted since 2020-01-01T12:00:00Z"},
	} {
		s.write(t, tc.extra, "")
		var out bytes.Buffer
		if err := checkConfig(&out, []string{s.cfgPath}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%q: output lacks %q:\n%s", tc.extra, tc.want, out.String())
		}
	}
	s.write(t, "[relay.pow]\naccept_v1_until = \"soon\"", "")
	if err := checkConfig(io.Discard, []string{s.cfgPath}); err == nil || !strings.Contains(err.Error(), "relay.pow.accept_v1_until") {
		t.Errorf("a bad date: %v", err)
	}
}

// A statement that runs out within two weeks is warned of, by
// check-config, in the log at start, and as a metric an alert can read,
// so that the form does not stop sending unnoticed; one with months left
// is not.
func TestStatementExpiryWarned(t *testing.T) {
	s := newSetup(t)
	k, _ := statement.GenerateKey()
	now := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	s.writeSigned(t, k, k.VerificationKey(), "h1", 3, now.Add(-day), now.Add(60*day), nil)
	var out bytes.Buffer
	if err := checkConfig(&out, []string{s.cfgPath}); err != nil || strings.Contains(out.String(), "expires soon") {
		t.Errorf("60 days left: %v\n%s\nwant no warning", err, out.String())
	}
	until := now.Add(3 * day)
	s.writeSigned(t, k, k.VerificationKey(), "h1", 3, now.Add(-day), until, nil)
	out.Reset()
	if err := checkConfig(&out, []string{s.cfgPath}); err != nil || !strings.Contains(out.String(), "warning: the key statement expires soon") {
		t.Errorf("3 days left: %v\n%s\nwant a warning", err, out.String())
	}
	b, _ := os.ReadFile(s.cfgPath)
	s.writeConfig(t, strings.Replace(string(b), "[relay]\n", "[relay]\nmetrics_on_listen = true\n", 1))
	r := start(t, s)
	if logs := r.logs.String(); !strings.Contains(logs, "key statement expires soon") || !regexp.MustCompile(`"days_left":[23]\b`).MatchString(logs) {
		t.Errorf("the start log does not warn of the statement:\n%s", logs)
	}
	_, body, _, err := get(&http.Client{Timeout: time.Minute}, "http://"+r.addr("http")+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`reportline_key_statement_valid_until_seconds{hotline="h1"} %d`, until.Unix()); !strings.Contains(body, want) &&
		!strings.Contains(body, fmt.Sprintf(`reportline_key_statement_valid_until_seconds{hotline="h1"} %g`, float64(until.Unix()))) {
		t.Errorf("/metrics lacks %s", want)
	}
}

package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/statement"
)

// signedTOML is a valid configuration whose hotline has a statement
// signed by k, with the given serial and validity, and key as its
// statement_key.
func signedTOML(t testing.TB, k *statement.SigningKey, key, hotline string, serial uint64, from, until time.Time, extra string) string {
	t.Helper()
	id, _ := age.GenerateHybridIdentity()
	text, err := k.Sign(&statement.Statement{Hotline: hotline, Serial: serial, ValidFrom: from, ValidUntil: until,
		Recipients: []string{id.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	return testRelay + `
[[hotline]]
id = "de-hotline"
intake_url = "https://intake.example.org/v1/deliveries"
statement_key = "` + key + `"
statement = '''
` + string(text) + `'''
` + extra + `

[[site]]
id = "news"
hotline = "de-hotline"
origins = ["https://www.example.org"]
`
}

func TestStatement(t *testing.T) {
	k, _ := statement.GenerateKey()
	other, _ := statement.GenerateKey()
	now := time.Now()
	day := 24 * time.Hour
	c, err := Parse([]byte(signedTOML(t, k, k.VerificationKey(), "de-hotline", 3, now.Add(-day), now.Add(day), "")))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Hotline("de-hotline")
	if h.KeyStatement() == nil || h.KeyStatement().Serial != 3 || h.ParsedRecipients().Len() != 1 {
		t.Fatalf("statement not in force: %+v", h.KeyStatement())
	}
	if _, err := statement.Parse([]byte(h.StatementText())); err != nil {
		t.Fatalf("the text handed to the form does not parse: %v", err)
	}
	for _, tc := range []struct {
		name, toml, want string
	}{
		{"expired", signedTOML(t, k, k.VerificationKey(), "de-hotline", 3, now.Add(-2*day), now.Add(-day), ""), "expired"},
		{"not yet valid", signedTOML(t, k, k.VerificationKey(), "de-hotline", 3, now.Add(day), now.Add(2*day), ""), "not yet valid"},
		{"mis-signed", signedTOML(t, other, k.VerificationKey(), "de-hotline", 3, now.Add(-day), now.Add(day), ""), "does not verify"},
		{"another hotline's", signedTOML(t, k, k.VerificationKey(), "nl-hotline", 3, now.Add(-day), now.Add(day), ""), `names hotline "nl-hotline"`},
		{"with recipients", signedTOML(t, k, k.VerificationKey(), "de-hotline", 3, now.Add(-day), now.Add(day), `recipients = ["age1x"]`), "recipients: remove it"},
		{"no key", signedTOML(t, k, "", "de-hotline", 3, now.Add(-day), now.Add(day), ""), "statement_key: missing"},
		{"bad key", signedTOML(t, k, "hlvk_abc", "de-hotline", 3, now.Add(-day), now.Add(day), ""), "statement_key: malformed"},
		{"the signing key in its place", signedTOML(t, k, k.Secret(), "de-hotline", 3, now.Add(-day), now.Add(day), ""), "statement_key: malformed hotline key: this is the hotline's secret signing key"},
	} {
		_, err := Parse([]byte(tc.toml))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "hotline[0].") {
			t.Errorf("%s: got %v, want an error about hotline[0] saying %q", tc.name, err, tc.want)
		}
	}
	// A recipient added to the signed text breaks its signature.
	good := signedTOML(t, k, k.VerificationKey(), "de-hotline", 3, now.Add(-day), now.Add(day), "")
	extra, _ := age.GenerateHybridIdentity()
	tampered := strings.Replace(good, "signature ", "recipient "+extra.Recipient().String()+"\nsignature ", 1)
	if _, err := Parse([]byte(tampered)); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("an added recipient was accepted: %v", err)
	}
}

func TestCheckRollback(t *testing.T) {
	k, _ := statement.GenerateKey()
	now := time.Now()
	load := func(serial uint64) *Config {
		c, err := Parse([]byte(signedTOML(t, k, k.VerificationKey(), "de-hotline", serial, now.Add(-time.Hour), now.Add(time.Hour), "")))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	five := load(5)
	if err := load(6).CheckRollback(five); err != nil {
		t.Errorf("a higher serial was refused: %v", err)
	}
	if err := five.CheckRollback(five); err != nil {
		t.Errorf("the same statement was refused: %v", err)
	}
	if err := load(4).CheckRollback(five); !errors.Is(err, statement.ErrRollback) || !strings.Contains(err.Error(), "serial 4 is lower than 5") {
		t.Errorf("a lower serial: %v", err)
	}
	// Another statement with the same serial (other recipients).
	if err := load(5).CheckRollback(five); !errors.Is(err, statement.ErrRollback) {
		t.Errorf("the same serial with other content: %v", err)
	}
	bare, err := Parse([]byte(validTOML(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.CheckRollback(five); !errors.Is(err, statement.ErrRollback) {
		t.Errorf("dropping the statement: %v", err)
	}
}

// Without a statement, a statement_key (which checks the hotline's
// replies to reporters) is still checked at start.
func TestStatementKeyWithoutStatement(t *testing.T) {
	k, _ := statement.GenerateKey()
	id, _ := age.GenerateHybridIdentity()
	conf := func(key string) string {
		return testRelay + `[[hotline]]
id = "de-hotline"
intake_url = "https://intake.example.org/v1/deliveries"
recipients = ["` + id.Recipient().String() + `"]
statement_key = "` + key + `"
[[site]]
id = "news"
hotline = "de-hotline"
origins = ["https://www.example.org"]
`
	}
	if _, err := Parse([]byte(conf(k.VerificationKey()))); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte(conf("hlvk_abc"))); err == nil || !strings.Contains(err.Error(), "hotline[0].statement_key") {
		t.Fatalf("a malformed statement_key: %v", err)
	}
}

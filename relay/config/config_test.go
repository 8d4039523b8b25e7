package config

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// testRelay is the [relay] table of the test configurations.
const testRelay = `
[relay]
public_url = "https://report.example.org"
spool = "data/spool.db"
assets = "build/assets"
signing_key_file = "relay.key"
`

func validTOML(t testing.TB) string {
	id, _ := age.GenerateHybridIdentity()
	return testRelay + `
[[hotline]]
id = "de-hotline"
intake_url = "https://intake.example.org/v1/deliveries"
recipients = ["` + id.Recipient().String() + `"]
categories = ["csam", "grooming"]

[[site]]
id = "news"
hotline = "de-hotline"
origins = ["https://www.example.org", "http://localhost:8080"]
`
}

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(validTOML(t)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Relay.Listen != "127.0.0.1:8081" || c.Relay.LogFormat != "json" || c.Relay.RetryMin.Seconds() != 5 {
		t.Errorf("defaults not applied: %+v", c.Relay)
	}
	h := c.Hotline("de-hotline")
	if h == nil || h.ParsedRecipients().Len() != 1 || c.Site("news") == nil {
		t.Fatalf("lookups failed: %+v", c)
	}
	if opts := h.Form().Field("category").Options; strings.Join(opts, ",") != "csam,grooming" {
		t.Errorf("remit = %v", opts)
	}
}

func TestExampleConfigShape(t *testing.T) {
	// The shipped example differs from a working file only in its
	// placeholder recipient: everything else must parse.
	_, err := Parse(Example)
	if err == nil || !strings.Contains(err.Error(), "hotline[0].recipients") || strings.Count(err.Error(), "config:") != 1 {
		t.Fatalf("example config: %v; want only the placeholder recipient refused", err)
	}
	// The message says what to do, not how age's parser failed.
	for _, want := range []string{"placeholder", "hotline keygen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the placeholder's message %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "separator") {
		t.Errorf("the placeholder's message %q speaks of the parser", err)
	}
	id, _ := age.GenerateHybridIdentity()
	filled := bytes.Replace(Example, []byte(ExampleRecipient), []byte(id.Recipient().String()), 1)
	if bytes.Equal(filled, Example) {
		t.Fatalf("the example does not hold %q", ExampleRecipient)
	}
	if _, err := Parse(filled); err != nil {
		t.Errorf("the example with a real recipient: %v", err)
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	good := validTOML(t)
	tests := []edit{
		{"typo key", `spool =`, `spoool =`, `unknown key "relay.spoool"`},
		{"no public url", `public_url = "https://report.example.org"`, ``, "relay.public_url: missing"},
		{"public url with path", `"https://report.example.org"`, `"https://report.example.org/x"`, "relay.public_url"},
		{"bad log format", `signing_key_file = "relay.key"`, `signing_key_file = "relay.key"` + "\nlog_format = \"xml\"", "relay.log_format"},
		{"bad hotline id", `id = "de-hotline"`, `id = "DE Hotline"`, "hotline[0].id"},
		{"bad intake", `https://intake.example.org/v1/deliveries`, `ftp://x`, "hotline[0].intake_url"},
		{"bad recipient", `recipients = ["`, `recipients = ["x`, "hotline[0].recipients"},
		{"bad category", `"grooming"]`, `"spam"]`, `hotline[0].categories: "spam" is not a category`},
		{"site to unknown hotline", `hotline = "de-hotline"`, `hotline = "nl"`, `site[0].hotline: "nl"`},
		{"origin with path", `"https://www.example.org"`, `"https://www.example.org/page"`, "site[0].origins"},
		{"origin with slash", `"https://www.example.org"`, `"https://www.example.org/"`, "site[0].origins"},
		{"bad duration", `signing_key_file = "relay.key"`, `signing_key_file = "relay.key"` + "\nretry_min = \"soon\"", "duration"},
		{"not toml", `[relay]`, `[relay`, "config: line 2: [relay: "},
	}
	checkEdits(t, good, tests)
}

func FuzzParse(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.toml") {
		f.Add(b)
	}
	f.Add([]byte(validTOML(f)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		for _, s := range c.Sites {
			if c.Hotline(s.Hotline) == nil {
				t.Fatalf("accepted a site %q whose hotline does not exist", s.ID)
			}
		}
	})
}

// edit changes a valid configuration in one place and names the error
// that change must cause.
type edit struct{ name, from, to, want string }

// checkEdits applies each edit to good and checks Parse refuses the
// result with an error containing want.
func checkEdits(t *testing.T, good string, tests []edit) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(good, tt.from, tt.to, 1)
			if in == good {
				t.Fatalf("test case does not change the config")
			}
			_, err := Parse([]byte(in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

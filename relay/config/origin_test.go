package config

import (
	"strings"
	"testing"
)

// TestPublicURLNormalized: relay.public_url is compared byte for byte with
// the Origin header browsers send, so it is written as they write it: a
// trailing slash, upper-case letters or the default port would otherwise
// make every report from the frame a foreign origin.
func TestPublicURLNormalized(t *testing.T) {
	for in, want := range map[string]string{
		"https://report.example.org/":       "https://report.example.org",
		"https://Report.Example.ORG":        "https://report.example.org",
		"HTTPS://report.example.org:443/":   "https://report.example.org",
		"http://127.0.0.1:80/":              "http://127.0.0.1",
		"http://127.0.0.1:8081/":            "http://127.0.0.1:8081",
		"https://report.example.org:8443":   "https://report.example.org:8443",
		"http://[::1]:8081/":                "http://[::1]:8081",
		"http://[::1]:80":                   "http://[::1]",
		"https://report.example.org":        "https://report.example.org",
		"https://report.example.org:443":    "https://report.example.org",
		"http://report.example.org:443/":    "http://report.example.org:443",
		"https://xn--bcher-kva.example/":    "https://xn--bcher-kva.example",
		"https://report.example.org:/":      "https://report.example.org",
		"http://localhost:8081":             "http://localhost:8081",
		"https://REPORT.example.org:8443/":  "https://report.example.org:8443",
		"https://report.example.org//":      "", // a path: refused
		"https://report.example.org/?x":     "", // a query: refused
		"https://report.example.org/?":      "", // an empty query: refused
		"https://report.example.org/#top":   "", // a fragment: refused
		"https://user@report.example.org/":  "", // a user name: refused
		"ftp://report.example.org/":         "", // not http(s): refused
		"report.example.org":                "", // no scheme: refused
		"https://report.example.org/report": "", // a path: refused
	} {
		good := validTOML(t)
		c, err := Parse([]byte(strings.Replace(good, `"https://report.example.org"`, `"`+in+`"`, 1)))
		switch {
		case want == "" && (err == nil || !strings.Contains(err.Error(), "relay.public_url")):
			t.Errorf("public_url %q: %v; want it refused naming relay.public_url", in, err)
		case want != "" && err != nil:
			t.Errorf("public_url %q: %v", in, err)
		case want != "" && c.Relay.PublicURL != want:
			t.Errorf("public_url %q became %q, want %q", in, c.Relay.PublicURL, want)
		}
	}
}

package report

import (
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	const fsi, pdi = "\u2068", "\u2069"
	tests := []struct {
		msg  string
		args []string
		want string
	}{
		{"call {emergency} now.", []string{"emergency", "+49 110"}, "call " + fsi + "+49 110" + pdi + " now."},
		{"{count} of {max}", []string{"count", "3", "max", "5000"}, fsi + "3" + pdi + " of " + fsi + "5000" + pdi},
		{"no values", nil, "no values"},
		{"{missing} stays", []string{"other", "x"}, "{missing} stays"},
		{"start with https:// or http://.", nil, "start with " + fsi + "https://" + pdi + " or " + fsi + "http://" + pdi + "."},
		{"e.g. https://example.com/page. Then", nil, "e.g. " + fsi + "https://example.com/page" + pdi + ". Then"},
		{"(https://a.example)", nil, "(" + fsi + "https://a.example" + pdi + ")"},
		{"an httpd and http:/x are no addresses", nil, "an httpd and http:/x are no addresses"},
		{"https://a.example", nil, fsi + "https://a.example" + pdi},
		// A value is isolated once, even when it is an address.
		{"see {url}", []string{"url", "https://b.example"}, "see " + fsi + "https://b.example" + pdi},
	}
	for _, tt := range tests {
		if got := Format(tt.msg, tt.args...); got != tt.want {
			t.Errorf("Format(%q, %q) = %q, want %q", tt.msg, tt.args, got, tt.want)
		}
	}
}

// TestCatalogsIsolated: in every language, what T fills in, and every web
// address a translator wrote, ends up isolated, so no catalogue has to
// carry its own direction marks.
func TestCatalogsIsolated(t *testing.T) {
	for _, loc := range Locales() {
		c, err := LoadCatalog(loc)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c {
			if strings.ContainsAny(v, "\u2066\u2067\u2068\u2069\u200e\u200f\u202a\u202b\u202c\u202d\u202e") {
				t.Errorf("%s: %q has direction marks of its own; T isolates values and addresses", loc, k)
			}
			var args []string
			for _, ph := range placeholders.FindAllString(v, -1) {
				args = append(args, strings.Trim(ph, "{}"), "+49 110")
			}
			got := c.T(k, args...)
			if n := strings.Count(got, "\u2068+49 110\u2069"); n != len(args)/2 {
				t.Errorf("%s: %q has %d isolated values, want %d: %q", loc, k, n, len(args)/2, got)
			}
			if n, m := strings.Count(got, "http"), strings.Count(got, "\u2068http"); n != m {
				t.Errorf("%s: %q has %d web addresses, %d of them isolated: %q", loc, k, n, m, got)
			}
		}
	}
}

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownKeysNamedWithLine: a misspelt key is refused with its full
// name and the line it is on, wherever it is (a table, an array of
// tables, a sub-table, a table of its own, after a multi-line string),
// and every misspelt key is named, not only the first.
func TestUnknownKeysNamedWithLine(t *testing.T) {
	good := validTOML(t)
	lineOf := func(text, needle string) int {
		i := strings.Index(text, needle)
		if i < 0 {
			t.Fatalf("%q is not in the configuration", needle)
		}
		return strings.Count(text[:i], "\n") + 1
	}
	for _, tt := range []struct {
		name, from, to, key, at string
	}{
		{"relay key", `spool =`, `spoool =`, "relay.spoool", "spoool ="},
		{"hotline key", `categories =`, `categoires =`, "hotline.categoires", "categoires ="},
		{"site key", `origins =`, `orgins =`, "site.orgins", "orgins ="},
		{"sub-table key", `origins =`, "[site.theme]\ncolour = \"#000000\"\n#", "site.theme.colour", "colour ="},
		{"unknown table", `[[site]]`, "[relay.tsl]\ncert_file = \"x\"\n\n[[site]]", "relay.tsl", "[relay.tsl]"},
		{"after a multi-line string", `origins =`, "note = '''\nspool = \"x\"\n'''\norgins =", "site.note", "note ="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(good, tt.from, tt.to, 1)
			if in == good {
				t.Fatal("test case does not change the config")
			}
			_, err := Parse([]byte(in))
			want := fmt.Sprintf("line %d: unknown key %q", lineOf(in, tt.at), tt.key)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, want)
			}
			if !strings.Contains(err.Error(), "docs/config.md") {
				t.Errorf("err = %v; want it to say where the keys are listed", err)
			}
		})
	}
	in := strings.Replace(strings.Replace(good, `spool =`, `spoool =`, 1), `origins =`, `orgins =`, 1)
	_, err := Parse([]byte(in))
	for _, key := range []string{`"relay.spoool"`, `"site.orgins"`} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("two misspelt keys: err = %v; want it to name %s", err, key)
		}
	}
}

// TestPathsRelativeToTheFile: the paths a configuration file names are
// taken from the file's own folder, so the relay, check-config and the
// spool commands find the same files whatever the working directory;
// a path given by an override (a flag or an environment variable) is
// the operator's, taken from the working directory.
func TestPathsRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(validTOML(t), `intake_url =`, `intake_ca_file = "keys/ca.pem"`+"\nintake_url =", 1)
	path := filepath.Join(dir, "relay.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, Override{Key: "relay.assets", Value: "my/assets", Source: "RELAY_ASSETS"})
	if err != nil {
		t.Fatal(err)
	}
	for key, got := range map[string]string{
		"relay.spool":               c.Relay.Spool,
		"relay.signing_key_file":    c.Relay.SigningKeyFile,
		"hotline[0].intake_ca_file": c.Hotlines[0].IntakeCAFile,
	} {
		if !filepath.IsAbs(got) || !strings.HasPrefix(got, dir+string(filepath.Separator)) {
			t.Errorf("%s = %q, want a path in %s", key, got, dir)
		}
	}
	if c.Relay.Assets != "my/assets" {
		t.Errorf("relay.assets from RELAY_ASSETS = %q, want it as given", c.Relay.Assets)
	}
	// Parse has no file: its paths stay as written.
	p, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if p.Relay.Spool != "data/spool.db" {
		t.Errorf("Parse: relay.spool = %q, want it as written", p.Relay.Spool)
	}
}

// TestWrongShapeNamed: a file that is TOML but not of the configuration's
// shape is refused with the line and the key, and what the key's value
// must be, rather than the decoder's words for Go types; a misspelt table
// that breaks the shape ([[sites]] with [site.theme] after it) is named
// as the unknown key it is.
func TestWrongShapeNamed(t *testing.T) {
	good := validTOML(t)
	for _, tt := range []struct {
		name, from, to, add string
		want                []string
	}{
		{"misspelt array of tables", "[[site]]", "[[sites]]", "[site.theme]\ncolor = \"#b00020\"\n", []string{`unknown key "sites"`, "docs/config.md"}},
		{"table for an array of tables", "[[site]]", "[site]", "", []string{"site must be a list of tables, each written [[site]]"}},
		{"array of tables for a table", "[relay]", "[[relay]]", "", []string{"relay must be a table, written [relay]"}},
		{"number in quotes", "spool =", "delivery_workers = \"128\"\nspool =", "", []string{"relay.delivery_workers must be a number, without quotes"}},
		{"text without quotes", `spool = "data/spool.db"`, `spool = 12`, "", []string{"relay.spool must be text in double quotes"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(good, tt.from, tt.to, 1) + tt.add
			if in == good {
				t.Fatal("test case does not change the config")
			}
			_, err := Parse([]byte(in))
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to contain %q", err, want)
				}
			}
			if err != nil && !strings.Contains(err.Error(), "line ") {
				t.Errorf("err = %v; want the line named", err)
			}
		})
	}
}

// TestSyntaxErrorShowsTheLine: a line TOML cannot read is shown as
// written, with its number; a text value without quotes is shown with
// them.
func TestSyntaxErrorShowsTheLine(t *testing.T) {
	good := validTOML(t)
	for _, tt := range []struct{ from, to, want string }{
		{`spool = "data/spool.db"`, "log_level = info\nspool = \"data/spool.db\"", `log_level = info: `},
		{`spool = "data/spool.db"`, `spool = data/spool.db`, `write text in double quotes, spool = "data/spool.db"`},
		{`spool = "data/spool.db"`, `spool = "data/spool.db`, `spool = "data/spool.db: `},
		{`spool = "data/spool.db"`, "listen = 127.0.0.1:8081\nspool = \"data/spool.db\"", `write text in double quotes, listen = "127.0.0.1:8081"`},
	} {
		in := strings.Replace(good, tt.from, tt.to, 1)
		_, err := Parse([]byte(in))
		line := strings.Count(in[:strings.Index(in, tt.to)], "\n") + 1
		if first, _, ok := strings.Cut(tt.to, "\n"); ok {
			line = strings.Count(in[:strings.Index(in, first)], "\n") + 1
		}
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("config: line %d: ", line)) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v\nwant line %d and %q", tt.to, err, line, tt.want)
		}
	}
	// A statement pasted without its closing quotes: the line where the
	// string opens, not the end of the file where the parser stops.
	in := strings.Replace(good, `categories =`, "note = '''\nsome text\ncategories =", 1)
	_, err := Parse([]byte(in))
	line := strings.Count(in[:strings.Index(in, "note = '''")], "\n") + 1
	if want := fmt.Sprintf("config: line %d: note = ''': this multi-line string has no closing '''", line); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("an unclosed ''': err = %v\nwant %q", err, want)
	}
}

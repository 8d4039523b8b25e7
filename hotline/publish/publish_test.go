package publish

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/andybalholm/brotli"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// fixture is a signing key, a statement it signed valid from an hour ago
// for a day, and a folder of built assets.
type fixture struct {
	key    *statement.SigningKey
	text   []byte
	assets string
	opts   Options
}

func newFixture(t *testing.T, serial uint64) *fixture {
	t.Helper()
	k, err := statement.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	text, err := k.Sign(&statement.Statement{Hotline: "de-hotline", Serial: serial, ValidFrom: now.Add(-time.Hour),
		ValidUntil: now.Add(24 * time.Hour), Recipients: []string{id.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00 the module"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	return &fixture{key: k, text: text, assets: dir, opts: Options{
		Relay: "https://relay.example", Statement: text, VerificationKey: k.VerificationKey(), Assets: dir,
		Languages: []string{"de", "en"}, Categories: []string{"csam", "grooming"}, EmergencyNumber: "110",
		ReportPage: "https://hotline.example/report", FollowUp: true,
	}}
}

var configScript = regexp.MustCompile(`(?s)<script type="application/json" id="rl-config">(.*?)</script>`)

// pageConfig reads the configuration a published page gives the module.
func pageConfig(t *testing.T, page []byte) map[string]any {
	t.Helper()
	m := configScript.FindSubmatch(page)
	if m == nil {
		t.Fatal("the page has no rl-config")
	}
	var cfg map[string]any
	if err := json.Unmarshal(m[1], &cfg); err != nil {
		t.Fatalf("rl-config: %v", err)
	}
	return cfg
}

// Write makes a folder with a page per language whose configuration names
// the relay, carries the hotline's key, the statement and its serial as
// the minimum, and links files that are in the folder, each with brotli
// and gzip forms of the same bytes; index.html is the hotline's first
// language's page.
func TestWrite(t *testing.T) {
	f := newFixture(t, 7)
	dir := filepath.Join(t.TempDir(), "frame")
	if err := Write(dir, f.opts); err != nil {
		t.Fatal(err)
	}
	for _, loc := range report.Locales() {
		page, err := os.ReadFile(filepath.Join(dir, loc+".html"))
		if err != nil {
			t.Fatal(err)
		}
		cfg := pageConfig(t, page)
		for k, want := range map[string]any{
			"relay": "https://relay.example", "hotline": "de-hotline", "hotlineKey": f.key.VerificationKey(),
			"minSerial": "7", "statement": string(f.text), "locale": loc, "site": "",
			"endpoint": "https://relay.example/v1/sites/{site}/reports/", "challenge": "https://relay.example/v1/sites/{site}/challenge",
			"mailbox": "https://relay.example/v1/sites/{site}/mailbox", "urgent": true,
		} {
			if cfg[k] != want {
				t.Errorf("%s.html: %s = %v, want %v", loc, k, cfg[k], want)
			}
		}
		if cats, _ := json.Marshal(cfg["categories"]); string(cats) != `["csam","grooming"]` {
			t.Errorf("%s.html: categories %s", loc, cats)
		}
		if !bytes.Contains(page, []byte(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;self&#39; &#39;wasm-unsafe-eval&#39;;`)) ||
			!bytes.Contains(page, []byte("connect-src &#39;self&#39; https://relay.example;")) {
			t.Errorf("%s.html has no policy of its own naming the relay", loc)
		}
		links := []string{cfg["module"].(string)}
		for _, u := range cfg["messages"].(map[string]any) {
			links = append(links, u.(string))
		}
		links = append(links, regexp.MustCompile(`(?:src|href)="(a/[^"]+)"`).FindAllString(string(page), -1)...)
		for _, l := range links {
			l = strings.TrimSuffix(l[strings.Index(l, "a/"):], `"`)
			checkFile(t, filepath.Join(dir, filepath.FromSlash(l)))
		}
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	de, _ := os.ReadFile(filepath.Join(dir, "de.html"))
	if !bytes.Equal(index, de) {
		t.Error("index.html is not the page in the hotline's first language, de")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "statement.txt")); !bytes.Equal(b, f.text) {
		t.Error("statement.txt is not the statement")
	}
}

// checkFile checks that a linked file exists, with brotli and gzip forms
// of the same bytes.
func checkFile(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Errorf("a linked file: %v", err)
		return
	}
	br, _ := os.ReadFile(name + ".br")
	gz, _ := os.ReadFile(name + ".gz")
	plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil || !bytes.Equal(plain, b) {
		t.Errorf("%s.br does not hold the file (%v)", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err == nil {
		plain, err = io.ReadAll(zr)
	}
	if err != nil || !bytes.Equal(plain, b) {
		t.Errorf("%s.gz does not hold the file (%v)", name, err)
	}
}

// Write refuses a statement that another key signed, one that ran out, a
// relay that is not an origin, an unknown category and a folder that
// exists, and then writes nothing: no folder and no temporary one.
func TestWriteRefuses(t *testing.T) {
	f := newFixture(t, 1)
	other, _ := statement.GenerateKey()
	tests := []struct {
		name string
		edit func(o *Options)
		want error
		text string
	}{
		{"another key", func(o *Options) { o.VerificationKey = other.VerificationKey() }, statement.ErrSignature, ""},
		{"expired", func(o *Options) { o.Now = time.Now().Add(48 * time.Hour) }, statement.ErrExpired, "sign a statement valid now"},
		{"relay with a path", func(o *Options) { o.Relay = "https://relay.example/v1" }, nil, "is not an origin"},
		{"category", func(o *Options) { o.Categories = []string{"spam"} }, nil, `"spam" is not a category`},
		{"no module", func(o *Options) { o.Assets = t.TempDir() }, os.ErrNotExist, "make build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			o := f.opts
			tt.edit(&o)
			err := Write(filepath.Join(parent, "frame"), o)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Write = %v, want %v %q", err, tt.want, tt.text)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("a refused publish left %v", left)
			}
		})
	}
	dir := t.TempDir()
	if err := Write(dir, f.opts); !errors.Is(err, ErrExists) {
		t.Errorf("Write into a folder that exists = %v, want ErrExists", err)
	}
}

// The relay's address with a trailing slash, as public_url may be
// written, is its origin: the pages name the relay's endpoints without a
// doubled slash.
func TestWriteRelayWithSlash(t *testing.T) {
	f := newFixture(t, 1)
	o := f.opts
	o.Relay += "/"
	dir := filepath.Join(t.TempDir(), "frame")
	if err := Write(dir, o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if page := string(b); strings.Contains(page, "relay.example//") || !strings.Contains(page, "https://relay.example") {
		t.Errorf("the page names the relay with a doubled slash, or not at all")
	}
}

// A publish that a crash cut short leaves its temporary folder beside the
// target; the next publish of that target removes it, so that repeated
// crashes (a demo stopped while it publishes) pile nothing up. Another
// target's temporary folder is not touched.
func TestWriteRemovesWhatACrashLeft(t *testing.T) {
	f := newFixture(t, 1)
	parent := t.TempDir()
	for _, name := range []string{".frame.tmp-123", ".frame.tmp-456", ".other.tmp-1"} {
		if err := os.MkdirAll(filepath.Join(parent, name, "a"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(filepath.Join(parent, "frame"), f.opts); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".other.tmp-1", "frame"}; !slices.Equal(names, want) {
		t.Errorf("beside the published folder: %v, want %v", names, want)
	}
}

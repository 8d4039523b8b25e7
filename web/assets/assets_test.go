package assets

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/reportline/reportline/internal/fuzzseed"
	"github.com/reportline/reportline/report"
)

// load loads a set from a folder with a stand-in module.
func load(t *testing.T) *Set {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("\x00asm module"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// js"), 0o644)
	a, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFiles: every file is under its hashed path, and nothing else is.
func TestFiles(t *testing.T) {
	a := load(t)
	for _, name := range []string{"widget.wasm", "wasm_exec.js", "frame.css", "boot.js", "messages-en.json"} {
		p := a.Path(name)
		if p == "" || !strings.HasPrefix(p, "/a/") {
			t.Errorf("%s: path %q", name, p)
			continue
		}
		if _, ok := a.File(p); !ok {
			t.Errorf("%s: no file at %s", name, p)
		}
	}
	if _, ok := a.File("/a/widget.000000000000.wasm"); ok {
		t.Error("a file at a hash nothing has")
	}
}

func TestPrecompressed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "widget.wasm"), bytes.Repeat([]byte("module "), 1000), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// js"), 0o644)
	if err := Precompress(dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "widget.wasm"))
	if ReadPrecompressed(dir, "widget.wasm", b) == nil {
		t.Fatal("fresh precompressed files were not used")
	}
	// A rebuilt module with old .br/.gz files must not be served stale.
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("new module"), 0o644)
	if ReadPrecompressed(dir, "widget.wasm", []byte("new module")) != nil {
		t.Fatal("stale precompressed files were used")
	}
}

// TestMinifyJS: the minifier drops comments, keeps strings and regular
// expressions as they are, shortens local names and refuses what it
// cannot parse.
func TestMinifyJS(t *testing.T) {
	in := "/* header */\n(function () {\n  // drop me\n  var longName = \"//not a comment\";\n" +
		"  if (/^a b$/.test(longName)) f(longName + +1);\n})();\n"
	got, err := minifyJS([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []string{`"//not a comment"`, `/^a b$/.test(`, `+ +1`} {
		if !bytes.Contains(got, []byte(keep)) {
			t.Errorf("minified %q lacks %q", got, keep)
		}
	}
	for _, drop := range []string{"header", "drop me", "longName"} {
		if bytes.Contains(got, []byte(drop)) {
			t.Errorf("minified %q still holds %q", got, drop)
		}
	}
	if _, err := minifyJS([]byte("(function () { var = ; })();")); err == nil {
		t.Error("a loader that does not parse was minified")
	}
}

// loaderBudget is the loader's size after brotli: every partner page
// downloads it, so it stays within 2 KB (docs/speed.md).
const loaderBudget = 2048

// TestLoaderLabelsAndBudget: the loader the relay serves holds every
// catalogue's title, the button's label in that language, keyed by the
// locale in lower case, and stays within its budget after brotli.
func TestLoaderLabelsAndBudget(t *testing.T) {
	a := load(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/embed.js", nil)
	req.Header.Set("Accept-Encoding", "br")
	a.Loader().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "br" {
		t.Fatalf("embed.js: status %d, encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	size := rec.Body.Len()
	plain, err := io.ReadAll(brotli.NewReader(rec.Body))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embed.js: %d bytes, %d after brotli (budget %d)", len(plain), size, loaderBudget)
	if size > loaderBudget {
		t.Errorf("embed.js is %d bytes after brotli, over its budget of %d", size, loaderBudget)
	}
	for _, loc := range report.Locales() {
		cat, _ := report.LoadCatalog(loc)
		// The minifier writes a key that is a name without its quotes.
		key, _ := json.Marshal(strings.ToLower(loc))
		val, _ := json.Marshal(cat.T("form.title"))
		quoted := string(key) + ":" + string(val)
		bare := strings.Trim(string(key), `"`) + ":" + string(val)
		if !bytes.Contains(plain, []byte(quoted)) && !bytes.Contains(plain, []byte(bare)) {
			t.Errorf("embed.js lacks the %s label %s", loc, quoted)
		}
	}
	if bytes.Contains(plain, []byte(labelsLine)) {
		t.Error("embed.js still holds the table of the source, with English only")
	}
}

// TestAcceptsEncoding: a coding is accepted when named with no weight or
// a weight above zero (RFC 9110, section 12.5.3), in any case and
// spacing; a weight of zero, however written, refuses it.
func TestAcceptsEncoding(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   bool
	}{
		{"br", true},
		{"gzip, deflate, br, zstd", true},
		{"BR", true},
		{"br;q=1", true},
		{"br;q=0.5", true},
		{"br; q=0.001", true},
		{"br;q=0", false},
		{"br;q=0.0", false},
		{"br;q=0.000", false},
		{"br ; q = 0", false},
		{"br;Q=0", false},
		{"br;q=garbage", false},
		{"gzip", false},
		{"", false},
		{"brotli", false},
		{"*", false},
	} {
		if got := AcceptsEncoding(tt.header, "br"); got != tt.want {
			t.Errorf("AcceptsEncoding(%q, br) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// FuzzAcceptsEncoding: the Accept-Encoding parser never panics, accepts
// only a coding the header names, and refuses one the header gives a
// weight of zero as its first mention.
func FuzzAcceptsEncoding(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "accept-encoding.txt") {
		for line := range strings.Lines(string(b)) {
			f.Add(strings.TrimSuffix(line, "\n"), "br")
		}
	}
	f.Fuzz(func(t *testing.T, header, enc string) {
		if enc == "" || strings.ContainsAny(enc, ",;= \t") {
			return
		}
		if AcceptsEncoding(header, enc) && !strings.Contains(strings.ToLower(header), strings.ToLower(enc)) {
			t.Fatalf("AcceptsEncoding(%q, %q) accepts a coding the header does not name", header, enc)
		}
		if AcceptsEncoding(enc+";q=0, "+header, enc) {
			t.Fatalf("AcceptsEncoding accepts %q after a weight of zero", enc)
		}
	})
}

func TestNoneMatch(t *testing.T) {
	const etag = `"abc123"`
	for _, tt := range []struct {
		header string
		want   bool
	}{
		{`"abc123"`, true},
		{`W/"abc123"`, true},
		{`"zzz", "abc123"`, true},
		{` "zzz" ,W/"abc123" `, true},
		{`*`, true},
		{` * `, true},
		{``, false},
		{`"abc12"`, false},
		{`"abc1234"`, false},
		{`""abc123""`, false},
		{`"x"abc123"`, false},
		{`abc123`, false},
		{`w/"abc123"`, false},
		{`"zzz"`, false},
	} {
		if got := NoneMatch(tt.header, etag); got != tt.want {
			t.Errorf("NoneMatch(%q, %s) = %v, want %v", tt.header, etag, got, tt.want)
		}
	}
}

func FuzzNoneMatch(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "if-none-match.txt") {
		for line := range strings.Lines(string(b)) {
			f.Add(strings.TrimSuffix(line, "\n"))
		}
	}
	const etag = `"abc123"`
	f.Fuzz(func(t *testing.T, header string) {
		if NoneMatch(header, etag) && !strings.Contains(header, etag) && !strings.Contains(header, "*") {
			t.Fatalf("NoneMatch(%q) matches a header that names neither the tag nor *", header)
		}
		if !NoneMatch(header+", "+etag, etag) {
			t.Fatalf("NoneMatch misses the tag after %q", header)
		}
	})
}

// TestCompressWindow: the brotli window fitted to each file holds the
// whole file, and so the output decodes to it and is at most a byte
// larger than with brotli's default window (the header that names a
// smaller window), which files of 4 MiB and more keep.
func TestCompressWindow(t *testing.T) {
	for n, want := range map[int]int{0: 10, 1008: 10, 1009: 11, 100_000: 17, 1<<22 - 16: 22, 1<<22 - 15: 22, 50 << 20: 22} {
		if got := window(n); got != want {
			t.Errorf("window(%d) = %d, want %d", n, got, want)
		}
	}
	text := []byte(strings.Repeat("function report(site, hotline) { return site + hotline; }\n", 1500))
	for _, n := range []int{0, 1, 1008, 1009, 40_000, len(text)} {
		b := text[:n]
		c := Compress(b, true)
		got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(c.Brotli)))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%d bytes: brotli output decodes to %d bytes, %v", n, len(got), err)
		}
		var def bytes.Buffer
		w := brotli.NewWriterLevel(&def, brotli.BestCompression)
		w.Write(b)
		w.Close()
		if len(c.Brotli) > def.Len()+1 {
			t.Errorf("%d bytes: %d compressed, %d with the default window", n, len(c.Brotli), def.Len())
		}
	}
}

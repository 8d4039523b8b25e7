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
	if readPrecompressed(dir, "widget.wasm", b) == nil {
		t.Fatal("fresh precompressed files were not used")
	}
	// A rebuilt module with old .br/.gz files must not be served stale.
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("new module"), 0o644)
	if readPrecompressed(dir, "widget.wasm", []byte("new module")) != nil {
		t.Fatal("stale precompressed files were used")
	}
}

func TestCompactJS(t *testing.T) {
	in := "/* header\n   comment */\n(function () {\n  // a comment\n  var a = \"//not a comment\";\n\n    f(a); // trailing stays\n})();\n" +
		"  if (x === 'a { b }' && y) z = a + +b - -c + d;\n  if (/^a b$/.test(s)) warn(\"x\");\n  return -1 + `t ${a} ( )`;\n" +
		"  l = (n >> 8 & 255) / 255 + c / 2;\n  if (!/^[/ \\]]x\\/ y$/i.test(s)) f(/ /g);\n  y = a ? /x/ : b;\n"
	want := "(function(){\nvar a=\"//not a comment\";\nf(a); // trailing stays\n})();\n" +
		"if(x==='a { b }'&&y)z=a+ +b- -c+d;\nif(/^a b$/.test(s))warn(\"x\");\nreturn-1+`t ${a} ( )`;\n" +
		"l=(n>>8&255)/255+c/2;\nif(!/^[/ \\]]x\\/ y$/i.test(s))f(/ /g);\ny = a ? /x/ : b;\n"
	if got := string(compactJS([]byte(in))); got != want {
		t.Errorf("compactJS:\n%s\nwant\n%s", got, want)
	}
}

// loaderBudget is the loader's size after brotli: every partner page
// downloads it, so it stays within 2 KB, and some 150 bytes more for the
// quick exit, which only the loader can give (it alone may send the page
// elsewhere with location.replace).
const loaderBudget = 2048 + 152

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
		want, _ := json.Marshal(map[string]string{strings.ToLower(loc): cat.T("form.title")})
		if !bytes.Contains(plain, bytes.Trim(want, "{}")) {
			t.Errorf("embed.js lacks the %s label %s", loc, want)
		}
	}
	if bytes.Contains(plain, []byte(labelsLine)) {
		t.Error("embed.js still holds the table of the source, with English only")
	}
}

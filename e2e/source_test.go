package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWasmSourcesRules holds the browser module to its rules: the files
// of wasm/ itself (the module's package main, the adapters to the page)
// build only for js/wasm; the packages below it hold the module's plain Go,
// build for the host too and touch no JavaScript; and JavaScript is
// reached through safejs, with raw syscall/js in no file at all.
func TestWasmSourcesRules(t *testing.T) {
	var files []string
	err := filepath.WalkDir(filepath.Join("..", "wasm"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in ../wasm (%v)", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		adapter := filepath.Dir(name) == filepath.Join("..", "wasm")
		if jsOnly := strings.HasPrefix(src, "//go:build js && wasm\n"); adapter && !jsOnly {
			t.Errorf("%s does not start with //go:build js && wasm", name)
		} else if !adapter && strings.HasPrefix(src, "//go:build") {
			t.Errorf("%s has a build constraint; the packages below wasm/ build for the host, to be tested there", name)
		}
		if strings.Contains(src, `"syscall/js"`) {
			t.Errorf("%s imports syscall/js; go through github.com/hack-pad/safejs", name)
		}
		if !adapter && strings.Contains(src, `"github.com/hack-pad/safejs"`) {
			t.Errorf("%s imports safejs; only the module's own package (wasm/) touches JavaScript", name)
		}
	}
}

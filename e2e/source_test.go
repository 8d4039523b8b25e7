package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWasmSourcesRules holds the browser module to its rules: every file
// in wasm/ and below builds only for js/wasm, and JavaScript is reached
// through safejs, with raw syscall/js in no file at all.
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
		if !strings.HasPrefix(src, "//go:build js && wasm\n") {
			t.Errorf("%s does not start with //go:build js && wasm", name)
		}
		if strings.Contains(src, `"syscall/js"`) {
			t.Errorf("%s imports syscall/js; go through github.com/hack-pad/safejs", name)
		}
	}
}

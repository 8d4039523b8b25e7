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

// TestModuleBuiltAlikeEverywhere keeps every recipe that builds the
// browser module in step with the Makefile: against the go.mod tools/wasmtrim
// writes (without it the module is 110 KB larger and the patches
// untested), without inlining, stripped, reproducible.
func TestModuleBuiltAlikeEverywhere(t *testing.T) {
	want := []string{
		"go run ./tools/wasmtrim -dir build/trim",
		"GOOS=js GOARCH=wasm go build -modfile=build/trim/go.mod -trimpath -gcflags=all=-l -ldflags=\"-s -w\" -o ",
	}
	for _, name := range []string{"Makefile", "docs/deployment.md", "examples/container/Containerfile"} {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if name == "Makefile" {
			src = strings.NewReplacer("$(GO)", "go", "$(TRIM)", "build/trim/go.mod", "$(BUILD)", "build").Replace(src)
		}
		for _, w := range want {
			if !strings.Contains(src, w) {
				t.Errorf("%s does not build the module with %q", name, w)
			}
		}
		if n := strings.Count(src, "GOARCH=wasm go build"); n != 1 {
			t.Errorf("%s builds the module %d times; the check above covers one", name, n)
		}
	}
}

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reportline/reportline/web/assets"
)

// moduleBudget is the most a reporter downloads for the WebAssembly
// module, after brotli (docs/speed.md, docs/decisions.md).
const moduleBudget = 900_000

// TestModuleSizeBudget holds the module, built as make builds it, to its
// download budget. A size is the same on every machine, so unlike the
// timings in docs/speed.md it can be a test: a change that pulls a large
// package into the module fails here, not in the next benchmark run.
func TestModuleSizeBudget(t *testing.T) {
	b := build(t)
	wasm, err := os.ReadFile(filepath.Join(b.assets, "widget.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	br := len(assets.Compress(wasm, true).Brotli) // as `relay precompress` makes it
	t.Logf("module: %d bytes, %d after brotli (budget %d)", len(wasm), br, moduleBudget)
	if br > moduleBudget {
		t.Errorf("the module is %d bytes after brotli, over its budget of %d: find what grew with "+
			"wasm-objdump -x -j Code on a build without -ldflags=-s, or see tools/wasmtrim", br, moduleBudget)
	}
}

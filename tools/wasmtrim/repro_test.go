package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// TestModuleReproducible builds the module twice from clean (patched
// modules written again, the first build with an empty build cache) and
// wants the same bytes: what lets a hotline check that a relay serves the
// module a given commit builds (docs/deployment.md).
func TestModuleReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module twice, once with an empty build cache")
	}
	root := chdirRoot(t)
	// At the same place inside the module each time, as make's build/trim:
	// the module's build information names the patched copies' path.
	dir := filepath.Join(root, "build", "repro-test")
	t.Cleanup(func() { os.RemoveAll(dir) })
	var sums [2]string
	for i := range sums {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		gomod, err := write(filepath.Join(dir, "trim"), patches())
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "widget.wasm")
		cmd := moduleBuild(gomod, out, "")
		if i == 0 {
			cmd.Env = append(cmd.Env, "GOCACHE="+t.TempDir())
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %d: %v\n%s", i+1, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		sums[i] = hex.EncodeToString(sum[:])
		t.Logf("build %d: %d bytes, sha256 %s", i+1, len(b), sums[i])
	}
	if sums[0] != sums[1] {
		t.Fatalf("two builds from clean differ: %s and %s", sums[0], sums[1])
	}
}

// TestPinnedKey builds the module with -pin and finds the key in it: the
// module requires it whatever the page says (wasm/keys.go).
func TestPinnedKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	chdirRoot(t)
	dir := t.TempDir()
	gomod, err := write(filepath.Join(dir, "trim"), patches())
	if err != nil {
		t.Fatal(err)
	}
	const key = "hlvk_Y7wup73B8KulOeZ7oT06FcpKajaA8rDpCblcU9dJG2M"
	out := filepath.Join(dir, "widget.wasm")
	if b, err := moduleBuild(gomod, out, key).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(key)) {
		t.Error("the module built with -pin does not hold the key")
	}
}

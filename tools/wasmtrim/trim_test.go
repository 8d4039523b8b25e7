package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// chdirRoot runs the test from the module root, as make does.
func chdirRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	return root
}

func FuzzDecimal(f *testing.F) {
	re := regexp.MustCompile(`^[1-9][0-9]*$`)
	for _, s := range []string{"", "0", "1", "18", "01", "10", "9999999999999999999999", "1a", "a1",
		" 1", "1 ", "1\n", "\n1", "-1", "+1", "１", "1.0", "1e3", "\x00", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := (decimal{}).MatchString(s), re.MatchString(s); got != want {
			t.Errorf("decimal.MatchString(%q) = %v, the expression it replaces says %v", s, got, want)
		}
	})
}

func TestWriteAppliesEveryPatch(t *testing.T) {
	root := chdirRoot(t)
	dir := filepath.Join(t.TempDir(), "trim")
	gomod, err := write(dir, patches())
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(mod, own) {
		t.Errorf("%s does not start with the module's own go.mod", gomod)
	}
	found, err := download([]string{"filippo.io/age", "filippo.io/hpke", "github.com/google/uuid"})
	if err != nil {
		t.Fatal(err)
	}
	for m, info := range found {
		if !strings.Contains(string(mod), "\t"+m+" "+info.Version+" => "+filepath.Join(dir, filepath.FromSlash(m))+"\n") {
			t.Errorf("%s has no replace directive for %s %s:\n%s", gomod, m, info.Version, mod)
		}
	}
	for _, p := range patches() {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p.module), filepath.FromSlash(p.file)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), p.old) {
			t.Errorf("%s/%s still holds the patched text %q", p.module, p.file, p.old)
		}
		if !strings.Contains(string(b), p.new) {
			t.Errorf("%s/%s lacks the replacement %q", p.module, p.file, p.new)
		}
	}
	// Files without a patch are the published ones, byte for byte.
	for _, f := range []struct{ module, file string }{{"filippo.io/age", "age.go"}, {"filippo.io/hpke", "pq.go"}} {
		want, err := os.ReadFile(filepath.Join(found[f.module].Dir, f.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.module), f.file))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/%s differs from the module cache's copy (%v)", f.module, f.file, err)
		}
	}
}

func TestWriteRelativeInsideTheModule(t *testing.T) {
	root := chdirRoot(t)
	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(filepath.Join(root, "build"), "trim-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	gomod, err := write(dir, patches())
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := os.ReadFile(gomod)
	want := " => ./build/" + filepath.Base(dir) + "/filippo.io/age\n"
	if !strings.Contains(string(mod), want) {
		t.Errorf("go.mod lacks %q, a path that stays the same in every checkout:\n%s", want, mod)
	}
}

func TestWriteRefusesChangedUpstream(t *testing.T) {
	chdirRoot(t)
	for _, p := range []patch{
		{module: "filippo.io/age", file: "scrypt.go", old: "text no version of age has\n", new: ""},
		{module: "filippo.io/age", file: "scrypt.go", old: "\n", new: ""}, // more than once
		{module: "filippo.io/age", file: "no_such_file.go", old: "x", new: ""},
	} {
		_, err := write(filepath.Join(t.TempDir(), "trim"), append(patches(), p))
		if err == nil {
			t.Errorf("a patch of %s replacing %q was applied; it must be refused", p.file, p.old)
			continue
		}
		if !strings.Contains(err.Error(), p.file) {
			t.Errorf("the error does not name the file %s: %v", p.file, err)
		}
	}
}

// TestAgeSuitePassesPatched runs age's own tests against the patched copy:
// they include passphrase files with malformed work factors, which the
// replacement for the regular expression must refuse just the same.
func TestAgeSuitePassesPatched(t *testing.T) {
	chdirRoot(t)
	gomod, err := write(filepath.Join(t.TempDir(), "trim"), patches())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "test", "-count=1", "-modfile="+gomod, "filippo.io/age").CombinedOutput()
	if err != nil {
		t.Fatalf("age's tests fail with the browser patches: %v\n%s", err, out)
	}
}

// TestModuleLeavesOutDeadCode builds the browser module with and without
// the patches and looks for the function names the runtime keeps for
// stack traces: the patched module must have neither regexp, the P-384
// and P-521 arithmetic, MD5 nor SHA-1, and the unpatched one shows the
// check can see them.
func TestModuleLeavesOutDeadCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module twice")
	}
	chdirRoot(t)
	dir := t.TempDir()
	gomod, err := write(filepath.Join(dir, "trim"), patches())
	if err != nil {
		t.Fatal(err)
	}
	build := func(name, modfile string) []byte {
		out := filepath.Join(dir, name)
		if b, err := moduleBuild(modfile, out, "").CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain := build("plain.wasm", "")
	trimmed := build("trimmed.wasm", gomod)
	dead := []string{"regexp/syntax.", "nistec/fiat.(*P384Element)", "nistec/fiat.(*P521Element)", "crypto/md5.", "crypto/sha1.",
		"nistec/fiat.(*P256Element)", "fips140/drbg.NewCounter", "fips140/aes/gcm.(*CMAC)"}
	for _, name := range dead {
		if !bytes.Contains(plain, []byte(name)) {
			t.Errorf("the unpatched module has no %q: the check below proves nothing; update it", name)
		}
		if bytes.Contains(trimmed, []byte(name)) {
			t.Errorf("the patched module still links %q", name)
		}
	}
	for _, name := range []string{"filippo.io/age.(*HybridRecipient).Wrap", "filippo.io/hpke.(*hybridPublicKey).encap",
		"github.com/google/uuid.NewRandom", "crypto/internal/sysrand.Read", "crypto/ecdh.x25519ScalarMult"} {
		if !bytes.Contains(trimmed, []byte(name)) {
			t.Errorf("the patched module lacks %q, which sealing needs", name)
		}
	}
	if len(trimmed) >= len(plain) {
		t.Errorf("the patched module is %d bytes, the unpatched %d", len(trimmed), len(plain))
	}
	t.Logf("module: %d bytes unpatched, %d patched", len(plain), len(trimmed))
}

// TestWriteOverlayAppliesEveryStdPatch writes the standard library
// overlay: every file it names is a copy of GOROOT's with the patches
// applied, and a patch whose text this Go release lacks, or has twice, is
// refused with the file named.
func TestWriteOverlayAppliesEveryStdPatch(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	path, err := writeOverlay(dir, stdPatches())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ov struct{ Replace map[string]string }
	if err := json.Unmarshal(b, &ov); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	goroot, err := goOutput("env", "GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stdPatches() {
		orig := filepath.Join(strings.TrimSpace(goroot), "src", filepath.FromSlash(p.file))
		dst, ok := ov.Replace[orig]
		if !ok {
			t.Errorf("the overlay does not replace %s", orig)
			continue
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), p.old) && !strings.Contains(p.new, p.old) {
			t.Errorf("%s still holds the patched text %q", p.file, p.old)
		}
		if !strings.Contains(string(got), p.new) {
			t.Errorf("%s lacks the replacement %q", p.file, p.new)
		}
	}
	for _, p := range []stdPatch{
		{file: "crypto/internal/fips140/aes/cast.go", old: "text no Go release has\n"},
		{file: "crypto/internal/fips140/aes/cast.go", old: "\n"},
		{file: "crypto/internal/fips140/no_such_file.go", old: "x"},
	} {
		if _, err := writeOverlay(t.TempDir(), append(stdPatches(), p)); err == nil || !strings.Contains(err.Error(), p.file) {
			t.Errorf("a patch of %s replacing %q: error %v, want a refusal naming the file", p.file, p.old, err)
		}
	}
}

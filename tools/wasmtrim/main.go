// Command wasmtrim holds the one recipe for the browser module: it writes
// the go.mod that the module is built with (go build -modfile) and, with
// -assets, builds the module with it. Make, the end-to-end tests, the
// container build and docs/deployment.md all call it; a test fails if any
// file builds the module another way.
//
// The go.mod points three modules at patched copies, to remove
// from the module code that age, its HPKE package and the UUID library
// link at package level but that the browser never runs:
//
//   - filippo.io/hpke registers KEMs on the NIST curves P-256, P-384 and
//     P-521 when it loads, which links about 370 KB of curve arithmetic.
//     age only uses ML-KEM-768 with X25519, so the browser build makes the
//     NIST curves nil: using one would panic instead of linking.
//   - age checks passphrase work factors with a regular expression
//     compiled when it loads, which links package regexp and its Unicode
//     tables. The browser never opens a passphrase-encrypted file; the
//     expression is replaced by a loop the tests hold to the same answers.
//   - github.com/google/uuid imports crypto/md5 and crypto/sha1 for name-based
//     (version 3 and 5) UUIDs; their hash registrations keep both in the
//     module although report ids are random (version 4). The browser build
//     drops the imports, and NewMD5 and NewSHA1 panic. About 10 KB.
//
// Together these take about 120 KB off the module after brotli.
//
// Through go build -overlay, the browser build also replaces text in a few
// files of the standard library (stdPatches): the FIPS 140 self-tests of
// ECDH, AES, AES-GCM and the DRBG, which package init registers and so
// links NIST P-256 and AES although the browser never runs in FIPS 140
// mode, and the DRBG behind crypto/rand, which outside FIPS 140 mode
// reads the system's random source directly. About 23 KB after brotli
// (docs/decisions.md). The overlay is written beside the go.mod, from the
// GOROOT of the go command that builds, and each replacement must match
// exactly once, so a new Go release whose text changed stops the build. Each patch
// is an exact text replacement in one file of the version go.mod selects,
// copied from the module cache: when an upgrade changes that text, wasmtrim
// fails and names the file, so a patch never applies to code nobody read.
// Each copy is checked against go.sum's hash before it is patched, as
// `go mod verify` would check the cache, so a changed module cache stops
// the build too.
// The relay and the hotline tools are built with the real go.mod and run
// age, HPKE and the UUID library exactly as published.
//
// The module is built for js/wasm against that go.mod, with -trimpath and
// without a version-control stamp (so the same commit and Go version give
// the same bytes in any checkout), without inlining (-gcflags=all=-l:
// about 8 % smaller after brotli; see docs/decisions.md) and stripped
// (-ldflags="-s -w").
//
// Usage, from the module root:
//
//	go run ./tools/wasmtrim -dir build/trim                      # the go.mod only, for go vet and go test
//	go run ./tools/wasmtrim -dir build/trim -assets build/assets # and widget.wasm, wasm_exec.js in build/assets
package main

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reportline/reportline/statement"
)

//go:embed decimal.go
var decimalSource string

// A patch replaces one exact piece of text in one file of a module.
type patch struct {
	module string // module path, as in go.mod
	file   string // slash-separated, inside the module
	old    string // must occur exactly once
	new    string
}

func patches() []patch {
	decimal := decimalSource[strings.Index(decimalSource, "// decimal matches"):]
	return []patch{
		{
			module: "filippo.io/hpke",
			file:   "crypto/ecdh/stubs.go",
			old: "func P256() Curve   { return ecdh.P256() }\n" +
				"func P384() Curve   { return ecdh.P384() }\n" +
				"func P521() Curve   { return ecdh.P521() }\n",
			new: "// The reportline browser build has no NIST curves (tools/wasmtrim).\n" +
				"func P256() Curve   { return nil }\n" +
				"func P384() Curve   { return nil }\n" +
				"func P521() Curve   { return nil }\n",
		},
		{
			module: "filippo.io/age",
			file:   "scrypt.go",
			old:    "\t\"regexp\"\n",
			new:    "",
		},
		{
			module: "filippo.io/age",
			file:   "scrypt.go",
			old:    "var digitsRe = regexp.MustCompile(`^[1-9][0-9]*$`)\n",
			new:    "// The reportline browser build has no regexp (tools/wasmtrim).\nvar digitsRe decimal\n\n" + decimal,
		},
		{
			module: "github.com/google/uuid",
			file:   "hash.go",
			old:    "\t\"crypto/md5\"\n\t\"crypto/sha1\"\n",
			new:    "",
		},
		{
			module: "github.com/google/uuid",
			file:   "hash.go",
			old:    "\treturn NewHash(md5.New(), space, data, 3)\n",
			new:    "\tpanic(\"uuid: no MD5 in the reportline browser build (tools/wasmtrim)\")\n",
		},
		{
			module: "github.com/google/uuid",
			file:   "hash.go",
			old:    "\treturn NewHash(sha1.New(), space, data, 5)\n",
			new:    "\tpanic(\"uuid: no SHA-1 in the reportline browser build (tools/wasmtrim)\")\n",
		},
	}
}

// A stdPatch replaces one exact piece of text in one file of the
// standard library, for the browser build only.
type stdPatch struct {
	file string // slash-separated, under GOROOT/src
	old  string // must occur exactly once
	new  string
}

func stdPatches() []stdPatch {
	const fips = "crypto/internal/fips140/"
	const note = "// Not in the reportline browser build, which never runs in FIPS 140 mode (tools/wasmtrim).\n"
	return []stdPatch{
		// The self-test links NIST P-256 into every user of X25519.
		{fips + "ecdh/cast.go", "var fipsSelfTest = sync.OnceFunc(func() {\n",
			note + "var fipsSelfTest = func() {}\n\nfunc fipsSelfTestUnused() {\n\tsync.OnceFunc(func() {\n"},
		{fips + "ecdh/cast.go", "\t\treturn nil\n\t})\n})\n", "\t\treturn nil\n\t})\n})\n}\n"},
		{fips + "aes/cast.go", "\nfunc init() {\n", "\n" + note + "func castUnused() {\n"},
		{fips + "aes/gcm/cast.go", "\nfunc init() {\n", "\n" + note + "func castUnused() {\n"},
		{fips + "drbg/cast.go", "\nfunc init() {\n", "\n" + note + "func castUnused() {\n"},
		// Outside FIPS 140 mode Read already reads the system's source;
		// a constant condition lets the AES-CTR DRBG fall away.
		{fips + "drbg/rand.go", "\tif !fips140.Enabled {\n\t\tsysrand.Read(b)\n",
			"\t" + note + "\tif true {\n\t\tsysrand.Read(b)\n"},
		{fips + "drbg/rand.go", "\t\treturn NewCounter(getEntropy())\n",
			"\t\tpanic(\"crypto/rand: no DRBG in the reportline browser build (tools/wasmtrim)\")\n"},
	}
}

// writeOverlay copies each standard library file that ps patch under
// dir/std, applies the patches, and writes dir/overlay.json for go build
// -overlay. It returns the path of overlay.json.
func writeOverlay(dir string, ps []stdPatch) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	goroot, err := goOutput("env", "GOROOT")
	if err != nil {
		return "", err
	}
	src := filepath.Join(strings.TrimSpace(goroot), "src")
	texts := map[string]string{}
	var files []string
	for _, p := range ps {
		text, ok := texts[p.file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(p.file)))
			if err != nil {
				return "", fmt.Errorf("standard library file %s: %w", p.file, err)
			}
			text = string(b)
			files = append(files, p.file)
		}
		if n := strings.Count(text, p.old); n != 1 {
			return "", fmt.Errorf("GOROOT/src/%s: the text to replace occurs %d times, want exactly 1: "+
				"this Go release changed it, so read the new version and update stdPatches in tools/wasmtrim\n%s",
				p.file, n, p.old)
		}
		texts[p.file] = strings.Replace(text, p.old, p.new, 1)
	}
	replace := map[string]string{}
	for _, f := range files {
		dst := filepath.Join(dir, "std", filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, []byte(texts[f]), 0o644); err != nil {
			return "", err
		}
		replace[filepath.Join(src, filepath.FromSlash(f))] = dst
	}
	b, err := json.MarshalIndent(map[string]any{"Replace": replace}, "", "\t")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "overlay.json")
	return out, os.WriteFile(out, append(b, '\n'), 0o644)
}

func main() {
	dir := flag.String("dir", filepath.Join("build", "trim"), "folder to write the patched modules and go.mod into")
	assets := flag.String("assets", "", "if set, build the module into this folder as widget.wasm, with Go's wasm_exec.js beside it")
	pin := flag.String("pin", "", "if set, a hotline's hlvk_… key the module requires whatever the page says (docs/key-statement.md)")
	flag.Parse()
	path, err := write(*dir, patches())
	if err == nil && *pin != "" {
		if _, perr := statement.ParseVerificationKey(*pin); perr != nil {
			err = fmt.Errorf("-pin: %w", perr)
		}
	}
	if err == nil && *assets != "" {
		err = buildAssets(path, *assets, *pin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtrim:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// moduleBuild returns the command that builds the browser module (./wasm)
// into out: against modfile (empty for the module's own go.mod) and the
// overlay.json beside it, for js/wasm, reproducible, without inlining,
// stripped, and with pin, if set, as the hotline key it requires. It is
// the one recipe.
func moduleBuild(modfile, out, pin string) *exec.Cmd {
	ldflags := "-ldflags=-s -w"
	if pin != "" {
		ldflags += " -X main.pinnedKey=" + pin
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-gcflags=all=-l", ldflags, "-o", out}
	if modfile != "" {
		args = append(args, "-modfile="+modfile, "-overlay="+filepath.Join(filepath.Dir(modfile), "overlay.json"))
	}
	cmd := exec.Command("go", append(args, "./wasm")...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	return cmd
}

// buildAssets builds the module against modfile into dir/widget.wasm and
// copies the Go runtime's wasm_exec.js, which loads it, beside it.
func buildAssets(modfile, dir, pin string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := moduleBuild(modfile, filepath.Join(dir, "widget.wasm"), pin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the module: %v\n%s", err, out)
	}
	goroot, err := goOutput("env", "GOROOT")
	if err != nil {
		return err
	}
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(goroot), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644)
}

// write copies each patched module from the module cache under dir,
// applies the patches, and writes dir/go.mod and dir/go.sum: the module's
// own, with a replace directive for each copy; and beside them the
// standard library overlay (writeOverlay). It returns the absolute path of
// that go.mod.
func write(dir string, ps []patch) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var modules []string
	for _, p := range ps {
		if !slices.Contains(modules, p.module) {
			modules = append(modules, p.module)
		}
	}
	gomod, err := goOutput("env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod = strings.TrimSpace(gomod)
	if !strings.HasSuffix(gomod, "go.mod") {
		return "", fmt.Errorf("run wasmtrim inside the reportline module (go env GOMOD printed %q)", gomod)
	}
	found, err := download(modules)
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(strings.TrimSuffix(gomod, ".mod") + ".sum")
	if err != nil {
		return "", err
	}
	replace := "\n// Written by go run ./tools/wasmtrim for the browser module; see tools/wasmtrim.\nreplace (\n"
	for _, m := range modules {
		dst := filepath.Join(dir, filepath.FromSlash(m))
		if err := os.RemoveAll(dst); err != nil {
			return "", err
		}
		if err := copyTree(found[m].Dir, dst); err != nil {
			return "", err
		}
		// What is patched is checked, not the cache it came from.
		if err := verifyCopy(dst, m, found[m].Version, sum); err != nil {
			return "", err
		}
		// A path relative to the module root keeps the module's build
		// information, and so its hash, the same in every checkout.
		target := dst
		if rel, err := filepath.Rel(filepath.Dir(gomod), dst); err == nil && filepath.IsLocal(rel) {
			target = "./" + filepath.ToSlash(rel)
		}
		replace += fmt.Sprintf("\t%s %s => %s\n", m, found[m].Version, target)
	}
	replace += ")\n"
	for _, p := range ps {
		path := filepath.Join(dir, filepath.FromSlash(p.module), filepath.FromSlash(p.file))
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		text := string(b)
		if n := strings.Count(text, p.old); n != 1 {
			return "", fmt.Errorf("%s@%s/%s: the text to replace occurs %d times, want exactly 1: "+
				"the module changed, so read the new version and update the patch in tools/wasmtrim\n%s",
				p.module, found[p.module].Version, p.file, n, p.old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(text, p.old, p.new, 1)), 0o644); err != nil {
			return "", err
		}
	}
	mod, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(out, append(mod, replace...), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return "", err
	}
	if _, err := writeOverlay(dir, stdPatches()); err != nil {
		return "", err
	}
	return out, nil
}

type module struct{ Path, Version, Dir, Error string }

// download asks the go command where the selected version of each module
// is, downloading it if needed.
func download(modules []string) (map[string]module, error) {
	out, err := goOutput(append([]string{"mod", "download", "-json"}, modules...)...)
	if err != nil {
		return nil, err
	}
	found := map[string]module{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var m module
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("go mod download printed something unexpected: %v", err)
		}
		if m.Error != "" {
			return nil, fmt.Errorf("go mod download %s: %s", m.Path, m.Error)
		}
		found[m.Path] = m
	}
	for _, m := range modules {
		if found[m].Dir == "" {
			return nil, fmt.Errorf("go mod download did not say where %s is; is it in go.mod?", m)
		}
	}
	return found, nil
}

func goOutput(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// copyTree copies a module's files; the copies are writable, unlike the
// module cache's.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

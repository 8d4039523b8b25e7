package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The patterns are split so that this file does not match them itself.
var (
	// A shell or Makefile line that runs go build on the module's folder.
	shellBuild = regexp.MustCompile(`go\s+build\b[^\n]*\s\./` + `wasm(/|\s|$)`)
	// A Go string naming the module's folder, as an argument to go build.
	goBuildArg = regexp.MustCompile(`"\./` + `wasm/?"`)
	// The recipe's call, in a shell line or as Go strings.
	shellCall = regexp.MustCompile(`go run \./tools/wasm` + `trim -dir \S+ -assets \S+`)
	goCall    = regexp.MustCompile(`"\./tools/wasm` + `trim",\s*"-dir",[^\n]*"-assets",`)
)

// offRecipe returns what is wrong with a file's way of building the
// browser module: a build of ./wasm that does not go through this tool.
func offRecipe(name, text string) []string {
	text = strings.NewReplacer("$(GO)", "go", "$(BUILD)", "build").Replace(text)
	var bad []string
	for _, m := range shellBuild.FindAllString(text, -1) {
		bad = append(bad, name+": builds the module itself: "+m)
	}
	if strings.HasSuffix(name, ".go") {
		for range goBuildArg.FindAllString(text, -1) {
			bad = append(bad, name+`: names "./wasm" to build it`)
		}
	}
	return bad
}

// TestOffRecipeSees: the check finds the ways the module used to be
// built by hand, and passes the recipe's call.
func TestOffRecipeSees(t *testing.T) {
	for name, text := range map[string]string{
		"Makefile":      "\tGOOS=js GOARCH=wasm $(GO) build -modfile=$(TRIM) -trimpath -gcflags=all=-l -o $(BUILD)/assets/widget.wasm ./" + "wasm\n",
		"Containerfile": " && GOOS=js GOARCH=wasm go build -modfile=build/trim/go.mod -o /out/assets/widget.wasm ./" + "wasm \\\n",
		"setup_test.go": `run(env, "build", "-o", out, "./` + `wasm")`,
	} {
		if len(offRecipe(name, text)) == 0 {
			t.Errorf("%s: %q was not caught", name, text)
		}
	}
	for name, text := range map[string]string{
		"Makefile":      "\t$(GO) run ./tools/wasm" + "trim -dir $(BUILD)/trim -assets $(BUILD)/assets\n",
		"deployment.md": "GOOS=js GOARCH=wasm go vet -modfile=build/trim/go.mod ./" + "wasm/\n",
	} {
		if bad := offRecipe(name, text); len(bad) != 0 {
			t.Errorf("%s: the recipe was refused: %v", name, bad)
		}
	}
}

// TestOneRecipe: every file that builds the browser module calls this
// tool, and no file in the repository builds it another way (with other
// flags or another go.mod, which would make a different module from the
// one tested).
func TestOneRecipe(t *testing.T) {
	root := chdirRoot(t)
	calls := map[string]*regexp.Regexp{
		"Makefile":                         shellCall,
		"docs/deployment.md":               shellCall,
		"examples/container/Containerfile": shellCall,
		"e2e/setup_test.go":                goCall,
	}
	for name, re := range calls {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		src := strings.NewReplacer("$(GO)", "go", "$(BUILD)", "build").Replace(string(b))
		if !re.MatchString(src) {
			t.Errorf("%s does not build the module with go run ./tools/wasmtrim -dir … -assets …", name)
		}
	}
	// The recipe itself, and this test's examples of what it refuses.
	self := []string{filepath.Join(root, "tools", "wasmtrim", "main.go"), filepath.Join(root, "tools", "wasmtrim", "recipe_test.go")}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "build", ".demo", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(self, path) || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(b, 0) >= 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, bad := range offRecipe(filepath.ToSlash(rel), string(b)) {
			t.Error(bad)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

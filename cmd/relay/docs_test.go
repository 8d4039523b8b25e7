package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	problemName = regexp.MustCompile(`problem\.New\(http\.Status\w+,\s*"([a-z-]+)"`)
	routePath   = regexp.MustCompile(`mux\.HandleFunc\("(?:[A-Z]+ )?(/[^"]*)"`)
)

// sources returns the non-test Go files of a package folder, joined.
func sources(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

// TestDocsListEveryProblemAndRoute keeps docs/relay-api.md and
// docs/delivery.md true to the code: every problem type the relay or the
// intake can answer, and every route of the relay, must be documented.
func TestDocsListEveryProblemAndRoute(t *testing.T) {
	for _, c := range []struct{ pkg, doc string }{
		{filepath.Join("..", "..", "relay"), "relay-api.md"},
		{filepath.Join("..", "..", "hotline", "intake"), "delivery.md"},
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", c.doc))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		src := sources(t, c.pkg)
		names := problemName.FindAllStringSubmatch(src, -1)
		if len(names) == 0 {
			t.Fatalf("found no problem types in %s", c.pkg)
		}
		for _, m := range names {
			if !strings.Contains(doc, "`"+m[1]+"`") {
				t.Errorf("docs/%s does not list the problem type `%s` of %s", c.doc, m[1], c.pkg)
			}
		}
		for _, m := range routePath.FindAllStringSubmatch(src, -1) {
			if m[1] == "/" {
				continue
			}
			if !strings.Contains(doc, m[1]) {
				t.Errorf("docs/%s does not describe the route %s", c.doc, m[1])
			}
		}
	}
}

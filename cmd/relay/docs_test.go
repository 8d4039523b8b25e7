package main

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/testbin"
)

var (
	problemName = regexp.MustCompile(`problem\.New\(http\.Status\w+,\s*"([a-z-]+)"`)
	routePath   = regexp.MustCompile(`mux\.HandleFunc\("(?:[A-Z]+ )?(/[^"]*)"`)
)

// allDocs returns README.md and every document in docs/, each with its
// path.
func allDocs(t *testing.T) []struct{ path, text string } {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	paths = append(paths, filepath.Join("..", "..", "README.md"))
	docs := make([]struct{ path, text string }, len(paths))
	for i, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		docs[i].path, docs[i].text = path, string(b)
	}
	return docs
}

// shBlock finds the shell blocks of a Markdown document.
var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

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

// TestDocsBuildByHand keeps the documents' `go build -o` lines true to the
// checkout: an output that names a folder of the repository (relay/,
// hotline/) without a trailing slash puts the binary inside that source
// folder, not where the next command looks for it; and every later line
// of the block that runs a binary by its path runs one the block built.
func TestDocsBuildByHand(t *testing.T) {
	blocks := 0
	for _, doc := range allDocs(t) {
		path, body := doc.path, doc.text
		for _, m := range shBlock.FindAllStringSubmatch(body, -1) {
			if !strings.Contains(m[1], "go build") {
				continue
			}
			blocks++
			built := map[string]bool{}
			for _, line := range strings.Split(m[1], "\n") {
				line, _, _ = strings.Cut(line, "#")
				args := strings.Fields(line)
				if len(args) == 0 {
					continue
				}
				if i := slices.Index(args, "build"); i > 0 && args[i-1] == "go" {
					o := slices.Index(args, "-o")
					if o < 0 || o+1 >= len(args) {
						t.Errorf("%s: %q builds without -o", path, line)
						continue
					}
					out := args[o+1]
					if st, err := os.Stat(filepath.Join("..", "..", out)); err == nil && st.IsDir() && !strings.HasSuffix(out, "/") {
						t.Errorf("%s: %q writes into the source folder %s/ of the checkout, not to %s", path, line, out, out)
					}
					for _, pkg := range args[o+2:] {
						if strings.HasPrefix(pkg, "./") {
							name := filepath.Base(pkg)
							if strings.HasSuffix(out, "/") {
								built[filepath.Clean(out+name)] = true
							} else {
								built[filepath.Clean(out)] = true
							}
						}
					}
					continue
				}
				if bin := args[0]; strings.Contains(bin, "/") && !built[filepath.Clean(bin)] {
					t.Errorf("%s: %q runs %s, which the block did not build (it built %v)", path, line, bin, slices.Sorted(maps.Keys(built)))
				}
			}
		}
	}
	if blocks == 0 {
		t.Fatal("found no sh block that runs go build")
	}
}

// TestDocsNameTheAgeVersion: where README.md and docs/deployment.md say a
// report opens with the `age` command, they say from which version: the
// hotline's keys are post-quantum (age1pq1…), which age reads from v1.3
// on, and an older age (Debian 12 ships 1.1) refuses the identity file.
func TestDocsNameTheAgeVersion(t *testing.T) {
	found := 0
	for _, name := range []string{"README.md", filepath.Join("docs", "deployment.md")} {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for _, m := range regexp.MustCompile("open with (?:the standard )?`age").FindAllStringIndex(doc, -1) {
			found++
			if after := doc[m[1]:min(len(doc), m[1]+200)]; !strings.Contains(after, "v1.3") {
				t.Errorf("%s: %q does not say which age opens post-quantum keys (v1.3 or later)", name, doc[m[0]:min(len(doc), m[1]+60)])
			}
		}
	}
	if found < 2 {
		t.Fatalf("found %d places that open a report with age, want the README's and deployment.md's", found)
	}
}

// TestDocsListEveryEnvironmentVariable keeps docs/config.md true to the
// commands: every RELAY_ or HOTLINE_ variable the relay or the hotline's
// tools read must be listed there.
func TestDocsListEveryEnvironmentVariable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	found := 0
	for cmd, dir := range map[string]string{"relay": ".", "hotline": filepath.Join("..", "hotline")} {
		for _, m := range regexp.MustCompile(`"((?:RELAY|HOTLINE)_[A-Z_]+)"`).FindAllStringSubmatch(sources(t, dir), -1) {
			found++
			if !strings.Contains(doc, "`"+m[1]+"`") {
				t.Errorf("docs/config.md does not list %s, which %s reads", m[1], cmd)
			}
		}
	}
	if found < 8 {
		t.Fatalf("found %d environment variables in the commands, want the hotline's and the relay's", found)
	}
}

// TestDocsSecretsStayPrivate: a key the documents have the reader make
// with a shell redirection (openssl rand … > pow.key) is made under umask
// 077, since the shell would otherwise make it readable to every user,
// where the relay's own keygen writes 0600.
func TestDocsSecretsStayPrivate(t *testing.T) {
	found := 0
	for _, doc := range allDocs(t) {
		path, body := doc.path, doc.text
		text := strings.ReplaceAll(body, "\n", " ")
		for _, m := range regexp.MustCompile(`openssl rand[^`+"`"+`]*>`).FindAllStringIndex(text, -1) {
			found++
			if before := text[max(0, m[0]-20):m[0]]; !strings.Contains(before, "umask 077") {
				t.Errorf("%s: %q makes a key readable to every user: put (umask 077 && …) around it", path, text[m[0]:m[1]])
			}
		}
	}
	if found == 0 {
		t.Fatal("found no key made with openssl rand")
	}
}

// TestReadmeKeysNotCommitted: the README's hotline steps run in the
// checkout and write private keys there (the hotline's identity and
// signing key, the relay's signing key) beside the configuration, the
// inbox and the spool; .gitignore keeps each from a `git add -A`.
func TestReadmeKeysNotCommitted(t *testing.T) {
	ignore := strings.Split(readExample(t, ".gitignore"), "\n")
	written := []string{"relay.toml", "relay-signing.key", "data"} // relay init's files, and the spool's folder it names
	for _, line := range docBlocksIn(t, "## For hotlines", "README.md")[0] {
		args := strings.Fields(line)
		for i := 1; i < len(args); i++ {
			if args[i-1] == "-o" || args[i-1] == "-inbox" {
				written = append(written, args[i])
			}
		}
	}
	if len(written) < 6 {
		t.Fatalf("found only %v written by the README's steps", written)
	}
	for _, name := range written {
		if !slices.Contains(ignore, "/"+name) && !slices.Contains(ignore, "/"+name+"/") {
			t.Errorf(".gitignore does not list /%s, which the README's hotline steps write in the checkout", name)
		}
	}
}

// TestDocsNameRealFlags: every flag the README and docs/ give a relay or
// hotline command, in a shell block or in running text, is one that
// command's -h lists, so that a renamed or removed flag cannot stay in
// the documents.
func TestDocsNameRealFlags(t *testing.T) {
	bins := map[string]string{"relay": testbin.Build(t, "relay"), "hotline": testbin.BuildPackage(t, "hotline", "../hotline")}
	help := map[string]string{}
	helpOf := func(cmd, sub string) string {
		k := cmd + " " + sub
		if h, ok := help[k]; ok {
			return h
		}
		out, _ := exec.Command(bins[cmd], sub, "-h").CombinedOutput()
		help[k] = string(out)
		return help[k]
	}
	subs := map[string][]string{
		"relay":   {"serve", "check-config", "init", "keygen", "spool", "snippet", "precompress"},
		"hotline": {"keygen", "sign", "intake", "open", "reply", "export", "publish", "serve-frame"},
	}
	invocation := regexp.MustCompile(`(?:^|[\s/(])(relay|hotline) ([a-z-]+)((?: +[^\s]+)*)`)
	checked := 0
	for _, doc := range allDocs(t) {
		path, body := doc.path, doc.text
		text := strings.ReplaceAll(body, "\\\n", " ")
		var spans []string
		for _, m := range shBlock.FindAllStringSubmatch(text, -1) {
			for _, l := range strings.Split(m[1], "\n") {
				l, _, _ = strings.Cut(l, "#")
				spans = append(spans, l)
			}
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(regexp.MustCompile("(?s)```.*?```").ReplaceAllString(text, ""), -1) {
			spans = append(spans, strings.ReplaceAll(m[1], "\n", " "))
		}
		for _, span := range spans {
			for _, m := range invocation.FindAllStringSubmatch(span, -1) {
				cmd, sub := m[1], m[2]
				if !slices.Contains(subs[cmd], sub) {
					continue
				}
				h := helpOf(cmd, sub)
				for _, arg := range strings.Fields(m[3]) {
					arg = strings.Trim(arg, "[]")
					name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
					if !strings.HasPrefix(arg, "-") || name == "" || name == "h" || !regexp.MustCompile(`^[a-z][a-z-]*$`).MatchString(name) {
						continue
					}
					checked++
					if !regexp.MustCompile(`(?m)(^|\s)--?` + regexp.QuoteMeta(name) + `\b`).MatchString(h) {
						t.Errorf("%s: %q gives %s %s the flag -%s, which %s %s -h does not list", filepath.Base(path), strings.TrimSpace(span), cmd, sub, name, cmd, sub)
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d flags in the documents", checked)
	}
}

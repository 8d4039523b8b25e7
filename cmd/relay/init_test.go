package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/reportline/reportline/internal/testbin"
)

// docBlocks returns the sh blocks of the section of docs/deployment.md
// that starts with heading.
func docBlocks(t *testing.T, heading string) [][]string {
	t.Helper()
	doc := readExample(t, "docs", "deployment.md")
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Fatalf("docs/deployment.md lacks %q", heading)
	}
	section := doc[i+len(heading):]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	var blocks [][]string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		var lines []string
		for _, l := range strings.Split(m[1], "\n") {
			if l, _, _ = strings.Cut(l, "#"); strings.TrimSpace(l) != "" {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
		blocks = append(blocks, lines)
	}
	return blocks
}

// TestConfigureAsDocumented runs the commands of docs/deployment.md's
// "Configure and check" as an operator would, each block in a fresh
// folder: `relay init` with the hotline's key, or the example copied with
// the key pasted in; either way check-config passes. The hotline's keygen
// is done in-process, and the hand edit the doc asks for (the key in
// place of the placeholder) is done by the test.
func TestConfigureAsDocumented(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	blocks := docBlocks(t, "## 3. Configure and check")
	if len(blocks) != 2 {
		t.Fatalf("found %d sh blocks, want 2 (relay init, and the example by hand)", len(blocks))
	}
	for _, block := range blocks {
		dir := t.TempDir()
		var recipient string
		checked := false
		for _, line := range block {
			args := strings.Fields(line)
			switch {
			case args[0] == "hotline" && args[1] == "keygen":
				id, err := age.GenerateHybridIdentity()
				if err != nil {
					t.Fatal(err)
				}
				recipient = id.Recipient().String()
			case args[0] == "cp" && len(args) == 3:
				b := readExample(t, strings.Split(args[1], "/")...)
				if recipient == "" {
					id, _ := age.GenerateHybridIdentity()
					recipient = id.Recipient().String()
				}
				// The operator's edit: the hotline's key for the placeholder.
				b = strings.Replace(b, "age1pq1...", recipient, 1)
				if err := os.WriteFile(filepath.Join(dir, args[2]), []byte(b), 0o600); err != nil {
					t.Fatal(err)
				}
			case args[0] == "relay":
				for i, a := range args {
					if a == "age1pq1…" {
						args[i] = recipient
					}
				}
				cmd := exec.Command(relayBin, args[1:]...)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", line, err, out)
				}
				if args[1] == "check-config" {
					checked = strings.Contains(string(out), "relay.toml: ok")
				}
				if args[1] == "init" && !strings.Contains(string(out), "whpk_") {
					t.Errorf("%s does not print the key the intake needs:\n%s", line, out)
				}
			default:
				t.Fatalf("the test does not know how to run %q", line)
			}
		}
		if !checked {
			t.Errorf("block %q: check-config did not pass", block)
		}
		if st, err := os.Stat(filepath.Join(dir, "relay-signing.key")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("block %q: signing key %v, %v; want mode 0600", block, st, err)
		}
	}
}

// TestInitRefuses: init overwrites nothing, needs the hotline's key, and
// says what to do when the key is missing or is the example's placeholder.
func TestInitRefuses(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "relay.toml"), []byte("# mine\n"), 0o600)
	id, _ := age.GenerateHybridIdentity()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"init"}, "hotline sign"},
		{[]string{"init", "-statement", "missing.statement"}, "-statement needs -statement-key"},
		{[]string{"init", "-statement", "s", "-statement-key", "k", "-recipient", id.Recipient().String()}, "not both"},
		{[]string{"init", "-recipient", "age1pq1..."}, "bad -recipient"},
		{[]string{"init", "-recipient", id.Recipient().String()}, "relay.toml exists"},
	} {
		cmd := exec.Command(relayBin, tt.args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("relay %v: %v\n%s\nwant %q", tt.args, err, out, tt.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "relay.toml")); string(b) != "# mine\n" {
		t.Errorf("relay.toml was overwritten: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "relay-signing.key")); err == nil {
		t.Error("a refused init left a signing key behind")
	}
}

// TestInitWithStatement: the way README's hotline section sets up a
// relay: the hotline makes its keys and signs a statement with the real
// hotline command; `relay init` takes the statement and its hlvk_ key, and
// the configuration it writes carries the signed statement, not bare
// recipients (to which the form refuses to seal), and passes check-config.
func TestInitWithStatement(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	dir := t.TempDir()
	hotlineBin := filepath.Join(t.TempDir(), "hotline")
	if out, err := exec.Command("go", "build", "-o", hotlineBin, "../hotline").CombinedOutput(); err != nil {
		t.Fatalf("go build the hotline command: %v\n%s", err, out)
	}
	run := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
		}
		return string(out)
	}
	recipient := regexp.MustCompile(`age1pq1[0-9a-z]+`).FindString(run(hotlineBin, "keygen", "-o", "identity.txt"))
	key := regexp.MustCompile(`hlvk_[A-Za-z0-9_-]+`).FindString(run(hotlineBin, "keygen", "-sign", "-o", "signing.key"))
	if recipient == "" || key == "" {
		t.Fatalf("hotline keygen printed no key: recipient %q, verification key %q", recipient, key)
	}
	// The example's hotline is demo-hotline.
	run(hotlineBin, "sign", "-key", "signing.key", "-hotline", "demo-hotline", "-serial", "1", "-o", "hotline.statement", recipient)
	if out := run(relayBin, "init", "-statement", "hotline.statement", "-statement-key", key); !strings.Contains(out, "whpk_") {
		t.Errorf("init does not print the key the intake needs:\n%s", out)
	}
	if out := run(relayBin, "check-config", "relay.toml"); !strings.Contains(out, "relay.toml: ok") || !strings.Contains(out, "key statement serial 1") {
		t.Errorf("check-config:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "relay.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "statement_key = \""+key+"\"") || regexp.MustCompile(`(?m)^recipients\s*=`).Match(b) {
		t.Errorf("relay.toml should carry the statement and its key, and no bare recipients:\n%s", b)
	}
}

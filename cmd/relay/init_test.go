package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/report"
)

// docBlocks returns the sh blocks of the section of docs/deployment.md
// that starts with heading.
func docBlocks(t *testing.T, heading string) [][]string {
	t.Helper()
	return docBlocksIn(t, heading, "docs", "deployment.md")
}

// docBlocksIn returns the sh blocks of the section of the document at
// path (from the repository's root) that starts with heading, each line
// without its comment.
func docBlocksIn(t *testing.T, heading string, path ...string) [][]string {
	t.Helper()
	doc := readExample(t, path...)
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Fatalf("%s lacks %q", filepath.Join(path...), heading)
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
		stubBuild(t, dir)
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
	stubBuild(t, dir)
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

// TestReadmeHotlineSteps runs README.md's "For hotlines" block line by
// line as a new operator would, in a fresh folder, pasting in the keys
// the commands print where the README shows age1pq1…, hlvk_… and whpk_…:
// keys, a statement signed for the README's hotline id, relay init,
// check-config, the relay and the intake; then a report sent as the form
// sends it arrives in the inbox and `hotline open` shows it. The only
// changes to the README's lines are the ones an operator on a shared
// machine makes: free loopback ports instead of 8081 and 8090 (RELAY_LISTEN,
// -listen, and intake_url in relay.toml, which init asks to edit).
func TestReadmeHotlineSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the relay and the intake")
	}
	bins := map[string]string{"relay": testbin.Build(t, "relay"), "hotline": testbin.BuildPackage(t, "hotline", "../hotline")}
	blocks := docBlocksIn(t, "## For hotlines", "README.md")
	if len(blocks) == 0 {
		t.Fatal("README.md's For hotlines section has no sh block")
	}
	dir := t.TempDir()
	stubBuild(t, dir)

	relayAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	intakeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	printed := map[string]string{} // the placeholder → what a command printed
	keyPatterns := map[string]*regexp.Regexp{
		"age1pq1…": regexp.MustCompile(`age1pq1[0-9a-z]+`),
		"hlvk_…":   regexp.MustCompile(`hlvk_[A-Za-z0-9_-]+`),
		"whpk_…":   regexp.MustCompile(`whpk_[A-Za-z0-9_=+/-]+`),
	}
	var relay, intake *proc
	var hotlineID string
	opened := false
	for _, line := range blocks[0] {
		args := strings.Fields(line)
		if args[0] == "make" {
			continue // the test built the commands
		}
		bin, ok := bins[strings.TrimPrefix(args[0], "build/bin/")]
		if !ok {
			t.Fatalf("the test does not know how to run %q", line)
		}
		for i, a := range args {
			if v, ok := printed[a]; ok {
				args[i] = v
			} else if keyPatterns[a] != nil {
				t.Fatalf("%s: nothing before it printed %s", line, a)
			}
			if i > 0 && args[i-1] == "-hotline" {
				hotlineID = a
			}
		}
		switch {
		case args[1] == "serve":
			relay = startProc(t, dir, []string{"RELAY_LISTEN=" + relayAddr}, bin, args[1:]...)
			relay.waitUntil(t, "the relay to be ready", func() bool { return answers200("http://" + relayAddr + "/readyz") })
			continue
		case args[1] == "intake":
			intake = startProc(t, dir, nil, bin, append(args[1:], "-listen", intakeAddr)...)
			intake.waitUntil(t, "the intake to listen", logHas(intake.out, "intake listening"))
			sendReadmeReport(t, dir, relayAddr, hotlineID)
			continue
		case args[1] == "open":
			// The report's id, which the operator reads from the inbox.
			ids, _ := filepath.Glob(filepath.Join(dir, "inbox", "*.age"))
			if len(ids) != 1 {
				t.Fatalf("inbox holds %v, want one report", ids)
			}
			for i, a := range args {
				if a == "inbox/ID.age" {
					args[i] = "inbox/" + filepath.Base(ids[0])
				}
			}
		}
		cmd := exec.Command(bin, args[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		for name, re := range keyPatterns {
			if k := re.FindString(string(out)); k != "" && printed[name] == "" {
				printed[name] = k
			}
		}
		switch args[1] {
		case "init":
			// The edit init's output asks for: where the intake listens.
			cfg := filepath.Join(dir, "relay.toml")
			b, _ := os.ReadFile(cfg)
			edited := strings.Replace(string(b), "http://127.0.0.1:8090/", "http://"+intakeAddr+"/", 1)
			if edited == string(b) {
				t.Fatalf("relay.toml has no intake_url on 127.0.0.1:8090 to edit:\n%s", b)
			}
			os.WriteFile(cfg, []byte(edited), 0o600)
		case "open":
			if !strings.Contains(string(out), "https://example.com/readme") {
				t.Errorf("%s does not show the report:\n%s", line, out)
			}
			opened = true
		}
	}
	if relay == nil || intake == nil || !opened {
		t.Fatalf("the README's block did not start the relay (%v) and the intake (%v) and open a report (%v)", relay != nil, intake != nil, opened)
	}
}

// sendReadmeReport sends one report to the relay as the form would, for
// the example's site, sealed to the recipients of the statement relay
// init put in dir's relay.toml, and waits until the intake stores it.
func sendReadmeReport(t *testing.T, dir, relayAddr, hotline string) {
	t.Helper()
	cfg, err := config.Load(filepath.Join(dir, "relay.toml"))
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Hotline(hotline)
	if h == nil {
		t.Fatalf("relay.toml has no hotline %q, the id the README signs and starts the intake with", hotline)
	}
	id := uuid.NewString()
	r := &report.Report{Version: report.Version, ID: id, Hotline: hotline, Site: cfg.Sites[0].ID, Created: time.Now().UTC().Truncate(time.Second),
		Locale: "en", Locations: []report.Location{{Kind: "url", Value: "https://example.com/readme"}}, SeenOn: "website", Content: "video", Category: "csam"}
	env, err := report.Seal(r, h.ParsedRecipients())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := solveChallenge(relayAddr, r.Site)
	if err != nil {
		t.Fatal(err)
	}
	if status, body, err := postReport(relayAddr, r.Site, id, proof, env); err != nil || status != http.StatusAccepted {
		t.Fatalf("the report was answered %d %v: %s", status, err, body)
	}
	waitFor(t, "the report in the inbox", func() bool {
		_, err := os.Stat(filepath.Join(dir, "inbox", id+".json"))
		return err == nil
	})
}

// TestInitElsewhere: init refuses a statement that does not verify and
// then leaves no file behind; a configuration it writes into another
// folder names its key from that folder, so check-config passes from any
// working directory; and -hotline must agree with the statement.
func TestInitElsewhere(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	hotlineBin := testbin.BuildPackage(t, "hotline", "../hotline")
	dir := t.TempDir()
	run := func(wd string, bin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = wd
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, _ := run(dir, hotlineBin, "keygen", "-o", "identity.txt")
	recipient := regexp.MustCompile(`age1pq1[0-9a-z]+`).FindString(out)
	out, _ = run(dir, hotlineBin, "keygen", "-sign", "-o", "signing.key")
	key := regexp.MustCompile(`hlvk_[A-Za-z0-9_-]+`).FindString(out)
	out, _ = run(dir, hotlineBin, "keygen", "-sign", "-o", "other.key")
	otherKey := regexp.MustCompile(`hlvk_[A-Za-z0-9_-]+`).FindString(out)
	if out, err := run(dir, hotlineBin, "sign", "-key", "signing.key", "-hotline", "nl-hotline", "-serial", "1", "-o", "nl.statement", recipient); err != nil || recipient == "" || key == "" || otherKey == "" {
		t.Fatalf("hotline keygen and sign: %v\n%s", err, out)
	}

	os.Mkdir(filepath.Join(dir, "etc"), 0o700)
	stubBuild(t, dir) // the checkout's build, where init runs
	out, err := run(dir, relayBin, "init", "-statement", "nl.statement", "-statement-key", otherKey, "-o", "etc/relay.toml", "-signing-key", "etc/relay-signing.key")
	if err == nil || !strings.Contains(out, "nothing was written") {
		t.Errorf("init with another hotline's key: %v\n%s\nwant a refusal that says nothing was written", err, out)
	}
	for _, e := range mustReadDir(t, filepath.Join(dir, "etc")) {
		t.Errorf("a refused init left %s behind", e.Name())
	}
	out, err = run(dir, relayBin, "init", "-statement", "nl.statement", "-statement-key", key, "-hotline", "de-hotline")
	if err == nil || !strings.Contains(out, `"nl-hotline", not "de-hotline"`) {
		t.Errorf("init -hotline other than the statement's: %v\n%s", err, out)
	}

	if out, err := run(dir, relayBin, "init", "-statement", "nl.statement", "-statement-key", key, "-o", "etc/relay.toml", "-signing-key", "etc/relay-signing.key"); err != nil ||
		!strings.Contains(out, "-hotline nl-hotline") {
		t.Fatalf("init into etc/: %v\n%s\nwant it to name the intake's -hotline", err, out)
	}
	// The configuration in etc/ names the checkout's build, not etc/build.
	if b, _ := os.ReadFile(filepath.Join(dir, "etc", "relay.toml")); !strings.Contains(string(b), "assets = "+strconv.Quote(filepath.Join(dir, "build", "assets"))) {
		t.Errorf("etc/relay.toml does not name the checkout's build/assets:\n%s", b)
	}
	// Run where nothing is built, init says so.
	if out, err := run(t.TempDir(), relayBin, "init", "-statement", filepath.Join(dir, "nl.statement"), "-statement-key", key); err != nil || !strings.Contains(out, "note: build/assets holds no built module yet") {
		t.Errorf("init with nothing built: %v\n%s\nwant a note to run make build", err, out)
	}
	for _, wd := range []string{dir, filepath.Join(dir, "etc"), t.TempDir()} {
		if out, err := run(wd, relayBin, "check-config", filepath.Join(dir, "etc", "relay.toml")); err != nil || !strings.Contains(out, "hotline nl-hotline") {
			t.Errorf("check-config from %s: %v\n%s", wd, err, out)
		}
	}
}

// TestInitKeyBesideTheConfiguration: init -o elsewhere writes the signing
// key beside the configuration, not into the working directory, unless
// -signing-key says otherwise.
func TestInitKeyBesideTheConfiguration(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	dir := t.TempDir()
	id, _ := age.GenerateHybridIdentity()
	cmd := exec.Command(relayBin, "init", "-recipient", id.Recipient().String(), "-o", "etc/relay.toml")
	cmd.Dir = dir
	os.Mkdir(filepath.Join(dir, "etc"), 0o700)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init -o etc/relay.toml: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc", "relay-signing.key")); err != nil {
		t.Errorf("the signing key is not beside the configuration: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "relay-signing.key")); err == nil {
		t.Error("the signing key was written into the working directory")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "etc", "relay.toml"))
	if !strings.Contains(string(b), `signing_key_file = "relay-signing.key"`) {
		t.Errorf("the configuration does not name the key beside it:\n%s", b)
	}
}

// stubBuild makes what make build leaves in dir/build/assets, which the
// example configuration names, enough for check-config and the relay.
func stubBuild(t *testing.T, dir string) {
	t.Helper()
	assets := filepath.Join(dir, "build", "assets")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(assets, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(assets, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
}

// TestKeyFileHints: a key file that cannot be made or read is named with
// what to do for its cause: a folder to make, the keygen line for a
// missing key, the relay's user for an unreadable one.
// initRelay makes dir a relay's folder as `relay init` leaves it, for a
// fresh post-quantum recipient, beside stub assets.
func initRelay(t *testing.T, relayBin, dir string) {
	t.Helper()
	stubBuild(t, dir)
	id, _ := age.GenerateHybridIdentity()
	cmd := exec.Command(relayBin, "init", "-recipient", id.Recipient().String())
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
}

func TestKeyFileHints(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	dir := t.TempDir()
	missing := filepath.Join(dir, "keys")
	out, err := exec.Command(relayBin, "keygen", "-o", filepath.Join(missing, "relay-signing.key")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "mkdir -p "+missing) {
		t.Errorf("keygen into a missing folder: %v\n%s\nwant a hint to make %s", err, out, missing)
	}
	initRelay(t, relayBin, dir)
	key := filepath.Join(dir, "relay-signing.key")
	os.Remove(key)
	cmd := exec.Command(relayBin, "check-config", "relay.toml")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "relay.signing_key_file") || !strings.Contains(string(out), "relay keygen -o relay-signing.key") {
		t.Errorf("check-config without the signing key: %v\n%s\nwant the key named and the keygen line that makes it", err, out)
	}
	// Root reads any file, so the unreadable case is checked on the error
	// os.Open gives another user.
	denied := keyFileError("relay.signing_key_file", "relay keygen -o "+key, &os.PathError{Op: "open", Path: key, Err: os.ErrPermission})
	if msg := denied.Error(); !strings.Contains(msg, "user the relay runs as") || strings.Contains(msg, "keygen") {
		t.Errorf("unreadable signing key: %q; want the relay's user named, and no new key", msg)
	}
}

// TestCheckConfigStatePaths: check-config refuses a spool the relay could
// not make (a file where its folder should be, a folder in its place),
// rather than pass a file that `relay serve` then refuses.
func TestCheckConfigStatePaths(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	dir := t.TempDir()
	initRelay(t, relayBin, dir)
	b, err := os.ReadFile(filepath.Join(dir, "relay.toml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o600)
	os.MkdirAll(filepath.Join(dir, "a-folder.db"), 0o700)
	for spool, want := range map[string]string{
		"a-file/spool.db": "a-file is a file, not a folder",
		"a-folder.db":     "a-folder.db is a folder",
	} {
		edited := strings.Replace(string(b), `spool = "data/spool.db"`, `spool = "`+spool+`"`, 1)
		if edited == string(b) {
			t.Fatal("relay.toml has no spool to edit")
		}
		os.WriteFile(filepath.Join(dir, "edited.toml"), []byte(edited), 0o600)
		cmd := exec.Command(relayBin, "check-config", "edited.toml")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "relay.spool") || !strings.Contains(string(out), want) {
			t.Errorf("spool = %q: %v\n%s\nwant relay.spool refused: %q", spool, err, out, want)
		}
	}
	// A spool whose folder is still to be made passes, and is not made.
	cmd := exec.Command(relayBin, "check-config", "relay.toml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("check-config with the spool's folder still to make: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("check-config made the spool's folder")
	}
}

// TestCheckConfigListenMismatch: a relay on loopback whose listen port
// was changed without its public_url (or the reverse) is reported, since
// browsers would look for it at public_url; as init writes them, the two
// agree.
func TestCheckConfigListenMismatch(t *testing.T) {
	relayBin := testbin.Build(t, "relay")
	dir := t.TempDir()
	initRelay(t, relayBin, dir)
	for env, warn := range map[string]bool{"": false, "RELAY_LISTEN=127.0.0.1:9000": true} {
		cmd := exec.Command(relayBin, "check-config", "relay.toml")
		cmd.Dir = dir
		if env != "" {
			cmd.Env = append(os.Environ(), env)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("check-config %s: %v\n%s", env, err, out)
		}
		if got := strings.Contains(string(out), "but the relay listens on 127.0.0.1:9000"); got != warn {
			t.Errorf("check-config with %q: warning %v, want %v\n%s", env, got, warn, out)
		}
	}
}

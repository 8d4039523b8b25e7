package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/report"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// root is the repository's root: the folder above this package's.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("the repository's root %s has no go.mod: %v", dir, err)
	}
	return dir
}

// processLimit bounds one process: generous, for a loaded machine.
const processLimit = 2 * time.Minute

// typage runs age-encryption, the npm package, in Node through
// testdata/typage.mjs.
type typage struct {
	t            *testing.T
	node, script string
}

// newTypage finds Node and age-encryption. Without node_modules the test
// is skipped with what to do, except in CI (CI set), which runs `npm ci`
// and where a test that did not run must not pass.
func newTypage(t *testing.T) *typage {
	t.Helper()
	dir := root(t)
	installed := filepath.Join(dir, "node_modules", "age-encryption", "package.json")
	if _, err := os.Stat(installed); err != nil {
		msg := fmt.Sprintf("these tests need age-encryption from npm: run `npm ci` in the repository's root (%v)", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("these tests need Node (Debian's nodejs) on PATH: %v", err)
	}
	ty := &typage{t: t, node: node, script: filepath.Join(dir, "interop", "testdata", "typage.mjs")}
	// Read here, so that go test's cache of a pass is dropped when the
	// script or the installed package changes.
	for _, f := range []string{ty.script, installed} {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	// The version installed is the one package.json pins.
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	want := "age-encryption " + pkg.DevDependencies["age-encryption"]
	out, err := ty.run(nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("node_modules holds %s, package.json pins %s: run `npm ci`", got, want)
	}
	return ty
}

// run runs the script with args and stdin, and returns its stdout.
func (ty *typage) run(stdin []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), processLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, ty.node, append([]string{ty.script}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node typage.mjs %s: %v: %s", args[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// decrypt opens envelope with the identity file, as typage does.
func (ty *typage) decrypt(identityFile string, envelope []byte) ([]byte, error) {
	return ty.run(envelope, "decrypt", identityFile)
}

// encrypt seals plaintext to the recipients, as typage does; with armor,
// as an armored (PEM-like text) age file.
func (ty *typage) encrypt(plaintext []byte, armored bool, recipients ...string) []byte {
	ty.t.Helper()
	args := []string{"encrypt"}
	if armored {
		args = append(args, "-armor")
	}
	out, err := ty.run(plaintext, append(args, recipients...)...)
	if err != nil {
		ty.t.Fatal(err)
	}
	return out
}

// hotline runs the hotline command, built once, and returns its stdout.
func hotline(t *testing.T, args ...string) string {
	t.Helper()
	hotlineBin := testbin.BuildPackage(t, "hotline", "../cmd/hotline")
	ctx, cancel := context.WithTimeout(context.Background(), processLimit)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, hotlineBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hotline %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.String()
}

// key is an identity file made by `hotline keygen` and its public key.
type key struct{ file, recipient string }

// keygen makes a hotline key with `hotline keygen`: post-quantum hybrid,
// or classic X25519 with classic.
func keygen(t *testing.T, classic bool) key {
	t.Helper()
	file := filepath.Join(t.TempDir(), "hotline-identity.txt")
	args := []string{"keygen", "-o", file}
	if classic {
		args = append(args, "-classic")
	}
	k := key{file: file, recipient: strings.TrimSpace(hotline(t, args...))}
	prefix := "age1pq1"
	if classic {
		prefix = "age1"
	}
	if !strings.HasPrefix(k.recipient, prefix) {
		t.Fatalf("hotline %s printed %q, want a %s… public key", strings.Join(args, " "), k.recipient, prefix)
	}
	return k
}

// identities reads the identity file as the hotline's tools do.
func (k key) identities(t *testing.T) []age.Identity {
	t.Helper()
	f, err := os.Open(k.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// newReport builds a report the way the form's module does: the typed
// values through report.FromValues, then the id, routing and time, and
// checks it is one the form would send. Its text is unique to the run.
func newReport(t *testing.T) *report.Report {
	t.Helper()
	var buf [4]byte
	rand.Read(buf[:])
	tok := hex.EncodeToString(buf[:])
	f := report.DefaultForm()
	r, _ := report.FromValues(f, report.Values{
		"locations":   {"https://interop-" + tok + ".example/gallery/4471?page=2", "Chat app, user @grp_" + tok},
		"seen_on":     {"forum"},
		"content":     {"video"},
		"category":    {"grooming"},
		"description": {"Seen in a group called grp-" + tok + " on Tuesday.\r\nThe uploader also posts as café-" + tok + " «ünïcode»."},
	}, false)
	r.ID = uuid.NewString()
	r.Hotline, r.Site, r.Locale = "demo-hotline", "demo-site", "en"
	r.Created = time.Now().UTC().Truncate(time.Second)
	if err := report.Validate(f, r, time.Now()); err != nil {
		t.Fatalf("the test's report is not one the form sends: %v", err)
	}
	return r
}

// padded is what the form encrypts: the report's JSON, padded.
func padded(t *testing.T, r *report.Report) []byte {
	t.Helper()
	b, err := report.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p, err := report.Pad(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var kinds = []struct {
	name    string
	classic bool
	kind    string
}{
	{"post-quantum", false, report.KindHybrid},
	{"classic", true, report.KindX25519},
}

// TestTypageOpensWhatTheFormSeals seals a report with report.Seal, the
// function the form's module calls, to a key made by `hotline keygen`,
// and opens it with typage and the identity file the command wrote: the
// plaintext is byte for byte what was sealed. typage refuses it with
// another hotline's identity, so the check could fail.
func TestTypageOpensWhatTheFormSeals(t *testing.T) {
	ty := newTypage(t)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			hot := keygen(t, k.classic)
			rs, err := report.ParseRecipients([]string{hot.recipient})
			if err != nil {
				t.Fatal(err)
			}
			r := newReport(t)
			env, err := report.Seal(r, rs)
			if err != nil {
				t.Fatal(err)
			}
			// What the relay accepts, as it accepts what the form sends.
			if err := report.CheckEnvelope(env, k.kind, 1); err != nil {
				t.Fatalf("the relay's check refuses the sealed report: %v", err)
			}
			got, err := ty.decrypt(hot.file, env)
			if err != nil {
				t.Fatalf("typage failed to open a report sealed by report.Seal: %v", err)
			}
			if want := padded(t, r); !bytes.Equal(got, want) {
				t.Fatalf("typage opened %d bytes that differ from the %d sealed:\n%.300q\nwant\n%.300q", len(got), len(want), got, want)
			}
			back, err := report.Parse(got)
			if err != nil {
				t.Fatalf("what typage opened does not parse as a report: %v", err)
			}
			if b1, b2 := padded(t, back), padded(t, r); !bytes.Equal(b1, b2) {
				t.Errorf("typage's plaintext parses to %+v, want %+v", back, r)
			}

			other := keygen(t, k.classic)
			if _, err := ty.decrypt(other.file, env); err == nil {
				t.Error("typage opened the report with another hotline's identity")
			}
		})
	}
}

// TestOurToolsOpenWhatTypageSeals seals a padded report with typage to the
// public key `hotline keygen` printed, and opens it with `hotline open`
// (a process, as an analyst runs it) and report.Open, the function the
// intake calls; the relay's check accepts it, as it would from the form.
func TestOurToolsOpenWhatTypageSeals(t *testing.T) {
	ty := newTypage(t)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			hot := keygen(t, k.classic)
			r := newReport(t)
			plain := padded(t, r)
			env := ty.encrypt(plain, false, hot.recipient)
			if bytes.Contains(env, []byte(r.ID)) || bytes.Contains(env, []byte("grp-")) {
				t.Fatal("typage's output holds the plaintext")
			}

			if err := report.CheckEnvelope(env, k.kind, 1); err != nil {
				t.Errorf("the relay's check refuses typage's envelope of a padded report: %v", err)
			}

			got, opened, err := report.Open(env, hot.identities(t)...)
			if err != nil {
				t.Fatalf("report.Open failed on typage's envelope: %v", err)
			}
			if !bytes.Equal(opened, plain) {
				t.Errorf("report.Open returned %d bytes that differ from the %d typage sealed", len(opened), len(plain))
			}
			if got.ID != r.ID || got.Description != r.Description {
				t.Errorf("report.Open read %+v, want %+v", got, r)
			}

			file := filepath.Join(t.TempDir(), r.ID+".age")
			if err := os.WriteFile(file, env, 0o600); err != nil {
				t.Fatal(err)
			}
			out := hotline(t, "open", "-identity", hot.file, file)
			for _, want := range []string{
				"ID         " + r.ID,
				r.Locations[0].Value,
				r.Locations[1].Value,
				strings.ReplaceAll(r.Description, "\n", "\n  "),
			} {
				if !strings.Contains(out, want) {
					t.Errorf("hotline open printed no %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestRelayCheckOnTypageEnvelopes runs the relay's check on envelopes
// typage makes. A padded report sealed to exactly the hotline's keys is
// accepted; the others are valid age files (filippo.io/age opens each
// with the right identity), which the relay refuses on purpose, for the
// reasons docs/report-format.md gives: each refusal names its reason.
func TestRelayCheckOnTypageEnvelopes(t *testing.T) {
	ty := newTypage(t)
	hot, second, classic := keygen(t, false), keygen(t, false), keygen(t, true)
	r := newReport(t)
	plain := padded(t, r)
	unpadded, err := report.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		plaintext  []byte
		armored    bool
		to         []key
		hotlineHas int    // the hotline's recipients, all post-quantum
		refusal    string // "" when accepted
	}{
		{"a padded report to the hotline's key", plain, false, []key{hot}, 1, ""},
		{"a padded report to the hotline's two keys", plain, false, []key{hot, second}, 2, ""},
		{"a report without padding", unpadded, false, []key{hot}, 1, "is not a padded report"},
		{"a key more than the hotline's", plain, false, []key{hot, second}, 1, "sealed to 2 recipients, the hotline has 1"},
		{"a classic key to a post-quantum hotline", plain, false, []key{classic}, 1, `type "X25519", the hotline's recipients are "mlkem768x25519"`},
		{"an armored file", plain, true, []key{hot}, 1, "failed to read header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var to []string
			for _, k := range c.to {
				to = append(to, k.recipient)
			}
			env := ty.encrypt(c.plaintext, c.armored, to...)

			// It is a valid age file, whatever the relay says.
			var src io.Reader = bytes.NewReader(env)
			if c.armored {
				src = armor.NewReader(src)
			}
			rd, err := age.Decrypt(src, c.to[0].identities(t)...)
			if err != nil {
				t.Fatalf("filippo.io/age cannot open typage's envelope: %v", err)
			}
			if got, err := io.ReadAll(rd); err != nil || !bytes.Equal(got, c.plaintext) {
				t.Fatalf("filippo.io/age opened %d bytes (%v), want the %d sealed", len(got), err, len(c.plaintext))
			}

			err = report.CheckEnvelope(env, report.KindHybrid, c.hotlineHas)
			switch {
			case c.refusal == "" && err != nil:
				t.Errorf("the relay's check refuses it: %v", err)
			case c.refusal != "" && err == nil:
				t.Errorf("the relay's check accepts it, want a refusal saying %q", c.refusal)
			case c.refusal != "" && (!errors.Is(err, report.ErrEnvelope) || !strings.Contains(err.Error(), c.refusal)):
				t.Errorf("the relay's check says %q, want report.ErrEnvelope saying %q", err, c.refusal)
			}
		})
	}
}

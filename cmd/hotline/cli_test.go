package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/report"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(testbin.Build(t, "hotline"), args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestKeygenAndOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		flag, prefix string
	}{{"", "age1pq1"}, {"-classic", "age1"}} {
		idFile := filepath.Join(dir, "identity"+tt.flag+".txt")
		args := []string{"keygen", "-o", idFile}
		if tt.flag != "" {
			args = append(args, tt.flag)
		}
		out, errOut, code := run(t, args...)
		pub := strings.TrimSpace(out)
		if code != 0 || !strings.HasPrefix(pub, tt.prefix) {
			t.Fatalf("keygen %s: code %d, stdout %q, stderr %q", tt.flag, code, out, errOut)
		}
		if st, err := os.Stat(idFile); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("identity file mode %v, %v; want 0600", st.Mode(), err)
		}
		// keygen never overwrites a key.
		if _, errOut, code := run(t, args...); code == 0 || !strings.Contains(errOut, "hotline: hint:") {
			t.Errorf("second keygen to the same file: code %d, stderr %q", code, errOut)
		}

		rcpts, err := report.ParseRecipients([]string{pub})
		if err != nil {
			t.Fatal(err)
		}
		r := &report.Report{Version: 1, ID: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", Hotline: "h1", Site: "s1",
			Created: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Locale: "de",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/page-x7"}},
			SeenOn:    "forum", Content: "video", Category: "grooming", AskedToMeet: "yes", Description: "zwei\nZeilen"}
		env, err := report.Seal(r, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		ageFile := filepath.Join(dir, "report"+tt.flag+".age")
		os.WriteFile(ageFile, env, 0o600)
		out, errOut, code = run(t, "open", "-identity", idFile, ageFile)
		for _, want := range []string{"3F2A-91C0-77DE", "https://example.com/page-x7", "Forum or newsgroup (forum)", "Videos (video)",
			"(grooming)", "  zwei\n  Zeilen", "anonymous"} {
			if !strings.Contains(out, want) {
				t.Errorf("open %s: output lacks %q:\n%s%s", tt.flag, want, out, errOut)
			}
		}
		if code != 0 {
			t.Errorf("open: code %d: %s", code, errOut)
		}

		// The intake's .json opens without the key.
		b, _ := json.Marshal(intake.Opened{ID: r.ID, Report: r})
		jsonFile := filepath.Join(dir, "report"+tt.flag+".json")
		os.WriteFile(jsonFile, b, 0o600)
		if out, errOut, code := run(t, "open", jsonFile); code != 0 || !strings.Contains(out, "https://example.com/page-x7") {
			t.Errorf("open .json: code %d, %q %q", code, out, errOut)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "x.age")
	os.WriteFile(garbage, []byte("not an age file"), 0o600)
	idFile := filepath.Join(dir, "id.txt")
	run(t, "keygen", "-o", idFile)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"open", garbage}, "hint: pass -identity FILE"},
		{[]string{"open", "-identity", filepath.Join(dir, "missing.txt"), garbage}, "hint: make one with"},
		{[]string{"open", "-identity", idFile, garbage}, "failed to decrypt report"},
		{[]string{"open"}, "usage"},
		{[]string{"open", filepath.Join(dir, "missing.json")}, "hint: give a report's file in the intake's inbox"},
		{[]string{"export", "-inbox", filepath.Join(dir, "no-inbox")}, "hint: give the intake's inbox folder with -inbox DIR"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		_, errOut, code := run(t, tt.args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("hotline %v: code %d, stderr %q; want it to contain %q", tt.args, code, errOut, tt.want)
		}
	}
}

// `hotline reply ID` finds the report in the inbox and posts a reply the
// relay can verify and the reporter can open and verify; a report without
// follow-up gets a hint instead.
func TestReply(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "signing.key")
	out, errOut, code := run(t, "keygen", "-sign", "-o", keyFile)
	vk := strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("keygen -sign: %d %s", code, errOut)
	}
	sec, _ := followup.NewSecret(rand.Reader)
	k, err := followup.Derive(sec)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{Version: 1, ID: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", Hotline: "h1", Site: "s1",
		Created: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Locale: "de",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/page-x7"}}, SeenOn: "forum", Content: "video", Category: "csam",
		FollowUp: &report.FollowUp{Mailbox: k.Mailbox, Check: k.Check, ReplyTo: k.Recipient}}
	b, _ := json.Marshal(intake.Opened{ID: r.ID, Report: r})
	os.WriteFile(filepath.Join(dir, r.ID+".json"), b, 0o600)
	noFollow := *r
	noFollow.ID, noFollow.FollowUp = "0b8f6c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e", nil
	b, _ = json.Marshal(intake.Opened{ID: noFollow.ID, Report: &noFollow})
	os.WriteFile(filepath.Join(dir, noFollow.ID+".json"), b, 0o600)

	if out, _, _ := run(t, "open", filepath.Join(dir, r.ID+".json")); !strings.Contains(out, "hotline reply") {
		t.Errorf("open does not say the reporter asked for follow-up:\n%s", out)
	}
	posts := make(chan followup.PostBody, 1)
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p followup.PostBody
		json.NewDecoder(req.Body).Decode(&p)
		posts <- p
		w.WriteHeader(http.StatusCreated)
	}))
	defer relay.Close()
	args := []string{"reply", "-key", keyFile, "-hotline", "h1", "-relay", relay.URL, "-inbox", dir, "-kind", "question", "-m", "Welcher Beitrag?"}
	out, errOut, code = run(t, append(args, r.ID)...)
	if code != 0 || !strings.Contains(out, "3F2A-91C0-77DE") {
		t.Fatalf("reply: code %d, %q %q", code, out, errOut)
	}
	p := <-posts
	post, err := followup.ParsePost([]byte(p.Post))
	if err != nil || post.Verify(vk) != nil {
		t.Fatalf("the post does not verify with %s: %v", vk, err)
	}
	env, _ := base64.StdEncoding.DecodeString(p.Envelope)
	plain, err := followup.Open(env, k.Identity)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := followup.ParseReply(plain)
	if err != nil || rp.Verify(vk) != nil || rp.Text != "Welcher Beitrag?" || rp.Kind != followup.KindQuestion {
		t.Fatalf("the reporter would read %+v, %v", rp, err)
	}
	if _, errOut, code := run(t, append(args, noFollow.ID)...); code == 0 || !strings.Contains(errOut, "did not ask for follow-up") {
		t.Errorf("reply to a report without follow-up: code %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, "reply", "-key", keyFile, r.ID); code == 0 || !strings.Contains(errOut, "usage") {
		t.Errorf("reply without -relay: code %d, %q", code, errOut)
	}
}

// TestIntakeInboxNotWritable: an inbox the intake cannot make stops it
// at start, with the flag to fix, rather than failing every delivery.
func TestIntakeInboxNotWritable(t *testing.T) {
	dir := t.TempDir()
	if _, _, code := run(t, "keygen", "-classic", "-o", filepath.Join(dir, "id.txt")); code != 0 {
		t.Fatal("keygen failed")
	}
	blocker := filepath.Join(dir, "not-a-folder")
	os.WriteFile(blocker, []byte("x"), 0o600)
	_, stderr, code := run(t, "intake", "-identity", filepath.Join(dir, "id.txt"), "-hotline", "h1", "-listen", "127.0.0.1:0",
		"-verify-key", "whpk_"+base64.StdEncoding.EncodeToString(make([]byte, 32)), "-inbox", filepath.Join(blocker, "inbox"))
	if code == 0 || !strings.Contains(stderr, "-inbox") || !strings.Contains(stderr, "writable") {
		t.Errorf("intake with an inbox in a file: exit %d\n%s\nwant a refusal that names -inbox", code, stderr)
	}
}

// TestIntakeListenAddressTaken: an address another program listens on
// stops the intake with the flag that moves it.
func TestIntakeListenAddressTaken(t *testing.T) {
	dir := t.TempDir()
	if _, _, code := run(t, "keygen", "-classic", "-o", filepath.Join(dir, "id.txt")); code != 0 {
		t.Fatal("keygen failed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, stderr, code := run(t, "intake", "-identity", filepath.Join(dir, "id.txt"), "-hotline", "h1", "-listen", ln.Addr().String(),
		"-verify-key", "whpk_"+base64.StdEncoding.EncodeToString(make([]byte, 32)), "-inbox", filepath.Join(dir, "inbox"))
	if code == 0 || !strings.Contains(stderr, "-listen") || !strings.Contains(stderr, "another") {
		t.Errorf("intake on a taken address: exit %d\n%s\nwant a refusal that names -listen", code, stderr)
	}
}

// TestSubcommandHelp: `hotline SUB -h` answers with the subcommand's
// flags, exits 0 and reports no error; each flag shows a one-word
// argument name (flag takes the first `quoted` word of the usage text
// for it, so a quoted command there would show as the argument).
func TestSubcommandHelp(t *testing.T) {
	flagLine := regexp.MustCompile(`^  -\S+(?: \S+)?$`)
	for _, sub := range []string{"keygen", "intake", "open", "export", "sign", "reply", "publish", "serve-frame"} {
		_, errOut, code := run(t, sub, "-h")
		if code != 0 || strings.Contains(errOut, "error:") {
			t.Errorf("hotline %s -h: exit %d\n%s", sub, code, errOut)
		}
		flags := 0
		for _, l := range strings.Split(errOut, "\n") {
			if !strings.HasPrefix(l, "  -") {
				continue
			}
			flags++
			if l, _, _ = strings.Cut(l, "\t"); !flagLine.MatchString(l) {
				t.Errorf("hotline %s -h: %q: the argument's name is more than one word", sub, l)
			}
		}
		if flags == 0 {
			t.Errorf("hotline %s -h lists no flag:\n%s", sub, errOut)
		}
	}
}

// TestKeyFileHints: a key file that cannot be made or read gets a hint
// for its cause: a missing folder, an existing file, a missing file, a
// file this user may not read; and a refused keygen leaves no file.
func TestKeyFileHints(t *testing.T) {
	dir := t.TempDir()
	idFile := filepath.Join(dir, "id.txt")
	if _, errOut, code := run(t, "keygen", "-o", idFile); code != 0 {
		t.Fatal(errOut)
	}
	signingKey := filepath.Join(dir, "signing.key")
	out, errOut, code := run(t, "keygen", "-sign", "-o", signingKey)
	if code != 0 {
		t.Fatal(errOut)
	}
	vk := strings.TrimSpace(out)
	b, _ := os.ReadFile(signingKey)
	secret := regexp.MustCompile(`hlsk_\S+`).FindString(string(b))
	missing := filepath.Join(dir, "keys")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "-o", filepath.Join(missing, "id.txt")}, "mkdir -p " + missing},
		{[]string{"keygen", "-sign", "-o", filepath.Join(missing, "signing.key")}, "mkdir -p " + missing},
		{[]string{"keygen", "-o", idFile}, "never overwrites"},
		{[]string{"open", "-identity", filepath.Join(dir, "none.txt"), idFile}, "make one with `hotline keygen -o"},
		{[]string{"sign", "-key", filepath.Join(dir, "none.key"), "-hotline", "h1", "-serial", "1", "age1x"}, "make one with `hotline keygen -sign -o"},
		{[]string{"intake", "-identity", idFile, "-hotline", "h1", "-verify-key-file", filepath.Join(dir, "none.whsec")}, "relay keygen -hmac"},
		// Keys mixed up: the hotline's own key for the relay's, the
		// signing key file for the identity.
		{[]string{"intake", "-identity", idFile, "-hotline", "h1", "-verify-key", vk}, "for -statement-key: -verify-key takes the relay's whpk_ key"},
		{[]string{"intake", "-identity", signingKey, "-hotline", "h1", "-verify-key", "whpk_" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, "AGE-SECRET-KEY-"},
	} {
		_, errOut, code := run(t, tt.args...)
		if code == 0 || !strings.Contains(errOut, "hotline: hint: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("hotline %v: exit %d\n%s\nwant a hint with %q", tt.args, code, errOut, tt.want)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("a refused keygen made %s", missing)
	}
	// The signing key's secret where its verification key goes.
	if _, errOut, code := run(t, "publish", "-relay", "http://127.0.0.1:8081", "-statement", idFile, "-statement-key", secret, filepath.Join(dir, "frame")); code == 0 ||
		!strings.Contains(errOut, "this is the hotline's secret signing key") {
		t.Errorf("publish with the hlsk_ key for -statement-key: exit %d\n%s", code, errOut)
	}
	// Root reads any file, so the unreadable case is checked on the error
	// os.Open gives another user.
	denied := &os.PathError{Op: "open", Path: idFile, Err: os.ErrPermission}
	if h := openHint(idFile, denied, "hotline keygen -o "+idFile); !strings.Contains(h, "user that owns") || strings.Contains(h, "keygen") {
		t.Errorf("hint for an unreadable identity file: %q; want the owner named, and no new key", h)
	}
}

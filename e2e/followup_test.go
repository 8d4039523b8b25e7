package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// followStack is a relay with a mailbox and a hotline intake, run from the
// built binaries with keys made by their own keygen commands.
type followStack struct {
	bin, dir, relay, inbox, signKey, verifyKey, identity string
	rcpts                                                *report.Recipients
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *followStack) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(s.bin, name), args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// start runs a process until the test ends, its output in the test's
// folder, and waits until url answers 200.
func (s *followStack) start(t *testing.T, url, name string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s log:\n%s", name, b)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer at %s within a minute", name, url)
}

func startFollowStack(t *testing.T) *followStack {
	b := build(t)
	s := &followStack{bin: b.bin, dir: t.TempDir()}
	s.inbox = filepath.Join(s.dir, "inbox")
	s.identity = filepath.Join(s.dir, "hotline-identity.txt")
	recipient := s.run(t, "hotline", "keygen", "-o", s.identity)
	s.signKey = filepath.Join(s.dir, "hotline-signing.key")
	s.verifyKey = s.run(t, "hotline", "keygen", "-sign", "-o", s.signKey)
	relayKey := filepath.Join(s.dir, "relay-signing.key")
	whpk := s.run(t, "relay", "keygen", "-o", relayKey)
	var err error
	if s.rcpts, err = report.ParseRecipients([]string{recipient}); err != nil {
		t.Fatal(err)
	}
	intakeAddr, relayAddr := freeAddr(t), freeAddr(t)
	s.relay = "http://" + relayAddr
	s.start(t, "http://"+intakeAddr+"/healthz", "hotline", "intake", "-identity", s.identity, "-hotline", "h1",
		"-inbox", s.inbox, "-verify-key", whpk, "-listen", intakeAddr)
	cfg := fmt.Sprintf(`[relay]
listen = %q
public_url = %q
spool = %q
mailbox = %q
assets = %q
signing_key_file = %q
retry_min = "1s"
[relay.pow]
difficulty = 64
[[hotline]]
id = "h1"
intake_url = "http://%s/v1/deliveries"
recipients = [%q]
statement_key = %q
[[site]]
id = "s1"
hotline = "h1"
origins = ["http://127.0.0.1:9"]
`, relayAddr, s.relay, filepath.Join(s.dir, "spool.db"), filepath.Join(s.dir, "mailbox.db"), b.assets, relayKey,
		intakeAddr, recipient, s.verifyKey)
	cfgPath := filepath.Join(s.dir, "relay.toml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	s.start(t, s.relay+"/readyz", "relay", "serve", "-config", cfgPath)
	return s
}

// proof solves a challenge from the relay, as the form does.
func (s *followStack) proof(t *testing.T) string {
	t.Helper()
	return solveProof(t, s.relay+"/v1/sites/s1")
}

// solveProof asks the relay's site at site (…/v1/sites/ID) for a
// challenge and solves it, as the form does, for the proof-of-work header.
func solveProof(t *testing.T, site string) string {
	t.Helper()
	resp, err := http.Get(site + "/challenge")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c pow.Challenge
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	sol, err := pow.Solve(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sol.Encode()
}

// send seals r to the hotline, sends it as the form does, and waits for
// the intake to have opened it.
func (s *followStack) send(t *testing.T, r *report.Report) {
	t.Helper()
	env, err := report.Seal(r, s.rcpts)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.relay+"/v1/sites/s1/reports/"+r.ID, bytes.NewReader(env))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(pow.Header, s.proof(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	path := filepath.Join(s.inbox, r.ID+".json")
	waitFor(t, deliveryLimit, "report "+r.ID+" stored by the intake", func() (bool, bool) {
		_, err := os.Stat(path)
		return true, err == nil
	})
}

// fetch fetches the mailbox of k as the reporter's side does,
// acknowledging the replies ack names, and returns the answer's size and
// what opened.
func (s *followStack) fetch(t *testing.T, k *followup.Keys, ack ...string) (int, *followup.Thread) {
	t.Helper()
	body, _ := json.Marshal(followup.FetchBody{Mailbox: k.Mailbox, Key: base64.RawURLEncoding.EncodeToString(k.RequestKey), Ack: ack})
	req, _ := http.NewRequest("POST", s.relay+"/v1/sites/s1/mailbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(pow.Header, s.proof(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var a followup.FetchAnswer
	if resp.StatusCode != 200 || json.Unmarshal(raw, &a) != nil || len(a.Replies) != followup.Slots {
		t.Fatalf("fetch: %d %.200s", resp.StatusCode, raw)
	}
	pub, err := statement.ParseVerificationKey(s.verifyKey)
	if err != nil {
		t.Fatal(err)
	}
	th, err := followup.Read(&a, k, "h1", func(text, sig []byte) (bool, error) { return ed25519.Verify(pub, text, sig), nil })
	if err != nil {
		t.Fatal(err)
	}
	if th.Refused != 0 {
		t.Fatalf("%d replies were refused", th.Refused)
	}
	return len(raw), th
}

// TestFollowUpRoundTrip runs the follow-up channel through the real
// binaries: a report with follow-up reaches the hotline's inbox; `hotline
// reply` posts a question; the reporter, with nothing but the code,
// fetches it, verifies and reads it, and it stays at the relay until the
// reporter acknowledges it; the reporter answers with a new report
// linked to the first, which the hotline opens. A wrong code gets an
// answer of the same size with nothing in it.
func TestFollowUpRoundTrip(t *testing.T) {
	s := startFollowStack(t)
	secret, _ := followup.NewSecret(rand.Reader)
	code := secret.Code()
	k, err := followup.Derive(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	first := &report.Report{Version: report.Version, ID: uuid.NewString(), Hotline: "h1", Site: "s1", Created: now, Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/gallery/123"}},
		SeenOn:    "website", Content: "image", Category: "csam",
		FollowUp: &report.FollowUp{Mailbox: k.Mailbox, Check: k.Check, ReplyTo: k.Recipient}}
	if err := report.Validate(report.DefaultForm(), first, now); err != nil {
		t.Fatal(err)
	}
	s.send(t, first)

	out := s.run(t, "hotline", "reply", "-key", s.signKey, "-hotline", "h1", "-relay", s.relay, "-inbox", s.inbox,
		"-kind", "question", "-m", "Which post on that page did you mean?", first.ID)
	if !strings.Contains(out, report.Reference(first.ID)) {
		t.Errorf("hotline reply said %q", out)
	}

	// The reporter comes back with the code alone.
	back, err := followup.ParseCode(strings.ToLower(code))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := followup.Derive(back)
	wrong, _ := followup.NewSecret(rand.Reader)
	kw, _ := followup.Derive(wrong)
	sizeWrong, none := s.fetch(t, kw)
	s.fetch(t, k2) // its answer is lost on the way
	size, th := s.fetch(t, k2)
	replies := th.Replies
	if len(none.Replies) != 0 || len(replies) != 1 {
		t.Fatalf("a wrong code got %d replies, the right one, at its second fetch, %d; want 0 and 1", len(none.Replies), len(replies))
	}
	if q := replies[0]; q.Kind != followup.KindQuestion || q.Text != "Which post on that page did you mean?" || q.Report != first.ID {
		t.Fatalf("the reporter read %+v", q)
	}
	if size != sizeWrong {
		t.Errorf("the answer with a reply has %d bytes, the one for a wrong code %d", size, sizeWrong)
	}
	if _, acked := s.fetch(t, k2, th.Ack...); len(acked.Replies) != 0 {
		t.Error("a fetch that acknowledged the reply gave it out again")
	}
	if _, again := s.fetch(t, k2); len(again.Replies) != 0 {
		t.Error("an acknowledged reply was given out again")
	}

	answer := &report.Report{Version: report.Version, ID: uuid.NewString(), Hotline: "h1", Site: "s1", Created: now, Locale: "en",
		InReplyTo: first.ID, Description: "The second post, from this morning.",
		FollowUp: &report.FollowUp{Mailbox: k2.Mailbox, Check: k2.Check, ReplyTo: k2.Recipient}}
	if err := report.Validate(report.DefaultForm(), answer, now); err != nil {
		t.Fatal(err)
	}
	s.send(t, answer)
	opened := s.run(t, "hotline", "open", filepath.Join(s.inbox, answer.ID+".json"))
	for _, want := range []string{"Answer to  " + report.Reference(first.ID), "The second post, from this morning.", "Follow-up  asked for"} {
		if !strings.Contains(opened, want) {
			t.Errorf("hotline open of the answer lacks %q:\n%s", want, opened)
		}
	}
}

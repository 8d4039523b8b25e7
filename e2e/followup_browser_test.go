package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/hotline/inbox"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// TestFollowUpInBrowser runs the follow-up channel as a reporter meets it:
// a report sent with the opt-in shows a receipt code, which must be typed
// back in part before the receipt can be left; the hotline asks a question
// with `hotline reply`, and a forged reply (sealed to the reporter and
// posted with the hotline's post key, but signed with another key) waits
// beside it; the reporter comes back on a fresh page with the code alone,
// is told which group of a mistyped code is wrong, reads the question, is
// warned of the forged reply without seeing its text, and answers; the
// hotline opens the answer, linked to the first report. The new screens
// are used with the keyboard only and checked with axe, in English and in
// Arabic.
func TestFollowUpInBrowser(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.FollowUp = true })
	in := newInput(t)
	b := newBrowser(t)
	f := b.openReportForm(s)
	f.waitReady()
	f.waitFocus("rl-title")
	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	f.choose("seen_on", in.seenOn)
	f.choose("content", in.content)
	f.choose("category", in.category)
	f.click("#description")
	f.typeText("description", in.description)
	// The opt-in, with the keyboard: it is off until the reporter asks.
	if evalFrame[bool](f, "read the opt-in", `document.getElementById("rl-followup").checked`) {
		t.Fatal("follow-up is on before the reporter asked for it")
	}
	f.tabTo("rl-followup", 40)
	b.press(" ")
	f.click("#rl-submit")
	f.waitReceipt()

	code := evalFrame[string](f, "read the code", `document.getElementById("rl-code").textContent`)
	if _, err := followup.ParseCode(code); err != nil {
		t.Fatalf("the receipt shows %q, not a receipt code: %v", code, err)
	}
	if !evalFrame[bool](f, "read the finish button", `document.getElementById("rl-another").hidden`) {
		t.Error("the reporter can leave the receipt before typing back part of the code")
	}
	runAxe(t, f.ctx, "the receipt with a code")
	// The receipt with its code, in every language the form speaks, and
	// its keyboard path from the language menu to the copy button and the
	// box for the group typed back.
	for _, loc := range report.Locales() {
		if loc != "en" {
			f.switchLanguage(loc)
			runAxe(t, f.ctx, "the receipt with a code in "+loc)
			f.tabTo("rl-copy", 20)
			f.tabTo("rl-confirm", 5)
		}
	}
	f.switchLanguage("en")
	n := evalFrame[string](f, "read the group asked for", `document.getElementById("rl-confirm-label").dataset.i18nArgs`)
	group := int(strings.TrimPrefix(n, "n=")[0] - '0')
	want := strings.Split(code, "-")[group-1]
	f.tabTo("rl-confirm", 10)
	f.typeText("rl-confirm", "ZZZZ")
	b.press(kb.Enter)
	f.waitFocus("rl-confirm")
	if got := evalFrame[string](f, "read the error", `document.getElementById("rl-confirm-error").textContent`); got == "" {
		t.Error("a wrong group typed back shows no error")
	}
	for range 4 {
		b.press(kb.Backspace)
	}
	f.typeText("rl-confirm", strings.ToLower(want))
	b.press(kb.Enter)
	f.waitFocus("rl-confirmed")
	if evalFrame[bool](f, "read the finish button", `document.getElementById("rl-another").hidden`) {
		t.Error("the receipt cannot be left after the code was typed back")
	}
	if n := evalFrame[int](f, "read the storage", `localStorage.length + sessionStorage.length + document.cookie.length`); n != 0 {
		t.Errorf("the frame stored %d things in the browser", n)
	}

	// The hotline: a question through `hotline reply`, and a forgery.
	id := waitInbox(t, s)
	first := readInboxReport(t, s, id)
	if first.FollowUp == nil {
		t.Fatal("the report carries no follow_up")
	}
	postForged(t, s, first)
	const question = "Which post on that page did you mean?"
	hotline := filepath.Join(build(t).bin, "hotline")
	if out, err := exec.Command(hotline, "reply", "-key", s.HotlineSigningKey, "-hotline", "demo-hotline",
		"-relay", s.RelayURL, "-inbox", s.Inbox, "-kind", "question", "-m", question, id).CombinedOutput(); err != nil {
		t.Fatalf("hotline reply: %v\n%s", err, out)
	}

	// The reporter comes back, on a fresh page, with the code alone.
	b2 := newBrowser(t)
	f2 := b2.openReportForm(s)
	f2.waitReady()
	f2.waitFocus("rl-title")
	f2.tabTo("rl-have-code", 10)
	b2.press(kb.Enter)
	f2.waitFocus("rl-code-input")
	runAxe(t, f2.ctx, "the code screen")
	// One wrong character in the third group.
	typo := []byte(code)
	typo[11] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(strings.IndexByte("0123456789ABCDEFGHJKMNPQRSTVWXYZ", typo[11])+1)%32]
	f2.typeText("rl-code-input", string(typo))
	b2.press(kb.Enter)
	f2.waitFocus("rl-code-input")
	if got, want := evalFrame[string](f2, "read the error", `document.getElementById("rl-code-input-error").textContent`),
		report.Format(catalog(t, "en")["followup.code_group"], "n", "3"); got != want {
		t.Errorf("a typo in group 3 says %q, want %q", got, want)
	}
	runAxe(t, f2.ctx, "the code screen with an error")
	// The code screen, in every language the form speaks, and its
	// keyboard path: the code box, the button that opens the messages, the
	// way back to the form.
	for _, loc := range report.Locales() {
		if loc != "en" {
			f2.switchLanguage(loc)
			runAxe(t, f2.ctx, "the code screen in "+loc)
			f2.tabTo("rl-code-input", 20)
			f2.tabTo("rl-code-open", 5)
			f2.tabTo("rl-back", 5)
		}
	}
	f2.switchLanguage("en")
	evalFrame[bool](f2, "focus the code", `(document.getElementById("rl-code-input").focus(), true)`)
	for range len(typo) {
		b2.press(kb.Backspace)
	}
	f2.typeText("rl-code-input", strings.ToLower(code))
	b2.press(kb.Enter)
	f2.step("wait for the thread", 2*time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#rl-thread li").length > 0 ||
			document.getElementById("rl-fu-status").dataset.i18n === "followup.fetch_failed"`, chromedp.WithPollingTimeout(0)))
		return err
	})
	type shown struct{ Kinds, Texts, Refused string }
	got := evalFrame[shown](f2, "read the thread", `({
		Kinds: [...document.querySelectorAll("#rl-thread li")].map(li => li.dataset.kind).join(","),
		Texts: [...document.querySelectorAll("#rl-thread .text")].map(p => p.textContent).join("|"),
		Refused: document.getElementById("rl-refused").hidden ? "" : document.getElementById("rl-refused").textContent})`)
	if got.Kinds != "question" || got.Texts != question {
		t.Errorf("the thread shows kinds %q and texts %q, want the question alone", got.Kinds, got.Texts)
	}
	if got.Refused != catalog(t, "en")["followup.refused"] {
		t.Errorf("the forged reply is warned of with %q", got.Refused)
	}
	if body := evalFrame[string](f2, "read the page", `document.body.textContent`); strings.Contains(body, "send us the pictures") {
		t.Error("the forged reply's text is shown")
	}
	runAxe(t, f2.ctx, "the thread")

	// The answer, with the keyboard.
	const answer = "The second post, from this morning."
	f2.tabTo("rl-answer", 10)
	f2.typeText("rl-answer", answer)
	f2.tabTo("rl-answer-send", 3)
	b2.press(kb.Enter)
	f2.step("wait for the answer to be sent", 2*time.Minute, func(ctx context.Context) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("rl-fu-status").dataset.i18n === "followup.answer_sent"`,
			chromedp.WithPollingTimeout(0)))
		return err
	})
	// The thread and its warning, in every language the form speaks.
	for _, loc := range report.Locales() {
		if loc == "en" {
			continue
		}
		f2.switchLanguage(loc)
		if got, want := evalFrame[string](f2, "read the warning", `document.getElementById("rl-refused").textContent`),
			catalog(t, loc)["followup.refused"]; got != want {
			t.Errorf("in %s the warning reads %q, want %q", loc, got, want)
		}
		runAxe(t, f2.ctx, "the thread in "+loc)
		f2.tabTo("rl-back", 20)
	}
	if n := evalFrame[int](f2, "read the storage", `localStorage.length + sessionStorage.length + document.cookie.length`); n != 0 {
		t.Errorf("the frame the reporter came back to stored %d things in the browser", n)
	}
	if errs := b2.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the frame logged errors:%s", joinLines(errs))
	}

	// The hotline opens the answer.
	answerID := waitFor(t, deliveryLimit, "answer in the inbox", func() (string, bool) {
		for _, name := range inboxFiles(t, s) {
			if rid, ok := strings.CutSuffix(name, ".json"); ok && rid != id {
				return rid, true
			}
		}
		return "", false
	})
	out, err := exec.Command(hotline, "open", filepath.Join(s.Inbox, answerID+".json")).CombinedOutput()
	if err != nil {
		t.Fatalf("hotline open: %v\n%s", err, out)
	}
	for _, want := range []string{"Answer to  " + report.Reference(id), answer, "Follow-up  asked for"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("hotline open of the answer lacks %q:\n%s", want, out)
		}
	}
	// The form acknowledged what it showed, the question and the refused
	// forgery alike, and the relay removed both.
	sec, _ := followup.ParseCode(code)
	k, _ := followup.Derive(sec)
	deadline := time.Now().Add(time.Minute)
	for n := openMailbox(t, s, k); n != 0; n = openMailbox(t, s, k) {
		if time.Now().After(deadline) {
			t.Fatalf("%d replies still wait in the mailbox after the thread was shown: the form did not acknowledge them", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// openMailbox fetches k's mailbox at the stack's relay as the form does,
// with a proof of work, and counts the values that open with k.
func openMailbox(t *testing.T, s *stack.Stack, k *followup.Keys) int {
	t.Helper()
	proof := solveProof(t, s.RelayURL+"/v1/sites/demo-site")
	body, _ := json.Marshal(followup.FetchBody{Mailbox: k.Mailbox, Key: base64.RawURLEncoding.EncodeToString(k.RequestKey)})
	req, _ := http.NewRequest("POST", s.RelayURL+"/v1/sites/demo-site/mailbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(pow.Header, proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var a followup.FetchAnswer
	err = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("fetch: %d, %v", resp.StatusCode, err)
	}
	n := 0
	for _, v := range a.Replies {
		env, _ := base64.StdEncoding.DecodeString(v)
		if _, err := followup.Open(env, k.Identity); err == nil {
			n++
		}
	}
	return n
}

// readInboxReport reads a report the intake stored.
func readInboxReport(t *testing.T, s *stack.Stack, id string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Inbox, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := inbox.ReadOpened(b)
	if err != nil {
		t.Fatalf("%s.json: %v", id, err)
	}
	return o.Report
}

// postForged leaves in the reporter's mailbox a question sealed to the
// reporter's key and posted with the hotline's key, as a relay or anyone
// holding the post key could, but signed with another key: what a
// phishing attempt would look like.
func postForged(t *testing.T, s *stack.Stack, r *report.Report) {
	t.Helper()
	keyText, err := os.ReadFile(s.HotlineSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := statement.ParseSigningKey(keyText)
	if err != nil {
		t.Fatal(err)
	}
	other, err := statement.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	fu := r.FollowUp
	now := time.Now().UTC().Truncate(time.Second)
	plain, err := followup.Sign(&followup.Reply{Hotline: "demo-hotline", Report: r.ID, Mailbox: fu.Mailbox,
		Kind: followup.KindQuestion, Sent: now, Text: "Please send us the pictures."}, other)
	if err != nil {
		t.Fatal(err)
	}
	env, err := followup.Seal(plain, fu.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	post, err := followup.SignPost(followup.NewPost("demo-hotline", fu.Mailbox, fu.Check, env, now), key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(followup.PostBody{Post: string(post), Envelope: base64.StdEncoding.EncodeToString(env)})
	resp, err := http.Post(s.RelayURL+"/v1/hotlines/demo-hotline/replies", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("posting the forged reply: %d", resp.StatusCode)
	}
}

//go:build js && wasm

package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
)

// The follow-up channel (docs/follow-up.md) as the reporter sees it: the
// opt-in and the receipt code after sending, and the screen where a
// reporter comes back with the code. The page holds the texts; this binds
// them. The code, the secret and every key derived from them live in the
// module's memory only, for the page's life: nothing is written to the
// browser's storage.

// followUp is the reporter's side of the channel for one visit.
type followUp struct {
	key     string           // the hotline's verification key, unpadded base64url
	secret  *followup.Secret // made when a report asks for follow-up
	keys    *followup.Keys
	group   int  // the group of the code the reporter is asked to type back
	pending bool // the code is shown and not yet typed back

	back     *followup.Keys // the keys of the code the reporter came back with
	question string         // the report a question is about, for an answer
	answer   *sealed
}

// get returns the element with the id; a missing one is undefined, which
// every setter below then only notes.
func (w *form) get(id string) safejs.Value {
	el, err := w.d.byID(id)
	note(err)
	return el
}

// focus moves the focus to el.
func focus(el safejs.Value) {
	_, err := el.Call("focus")
	note(err)
}

// bindFollowUp attaches the follow-up screens' behaviour, where the relay
// offers them and the frame has a key to verify the hotline's replies.
func (w *form) bindFollowUp() error {
	if w.cfg.Mailbox == "" {
		return nil
	}
	key, err := w.cfg.trust.key()
	if err != nil {
		return nil // the form cannot seal either; it says so when sending
	}
	w.fu.key = key
	submit := func(fn func() error) func(safejs.Value, []safejs.Value) error {
		return func(_ safejs.Value, args []safejs.Value) error {
			if len(args) > 0 {
				_, err := args[0].Call("preventDefault")
				note(err)
			}
			go func() { note(fn()) }()
			return nil
		}
	}
	for id, fn := range map[string]func(safejs.Value, []safejs.Value) error{
		"rl-copy":         submit(w.copyCode),
		"rl-confirm-form": submit(w.confirmCode),
		"rl-have-code":    submit(func() error { w.showReturn(true); return nil }),
		"rl-back":         submit(func() error { w.showReturn(false); return nil }),
		"rl-code-form":    submit(w.openMailbox),
		"rl-answer-form":  submit(w.sendAnswer),
	} {
		event := "click"
		if strings.HasSuffix(id, "-form") {
			event = "submit"
		}
		if err := on(w.get(id), event, id+" "+event, fn); err != nil {
			return err
		}
	}
	return nil
}

// wantsFollowUp reports whether the reporter ticked the opt-in.
func (w *form) wantsFollowUp() bool {
	return w.fu.key != "" && getBool(w.get("rl-followup"), "checked")
}

// followUpRequest returns the report's follow_up member, making the
// secret the first time this report needs it.
func (w *form) followUpRequest() (*report.FollowUp, error) {
	if w.fu.keys == nil {
		s, err := followup.NewSecret(rand.Reader)
		if err != nil {
			return nil, err
		}
		if w.fu.keys, err = followup.Derive(s); err != nil {
			return nil, err
		}
		w.fu.secret = &s
	}
	k := w.fu.keys
	return &report.FollowUp{Mailbox: k.Mailbox, Check: k.Check, ReplyTo: k.Recipient}, nil
}

// showText sets el's text to the message key with one argument n, marked
// so that a switch of language translates it too.
func (w *form) showText(el safejs.Value, key, n string) {
	args := []string(nil)
	if n != "" {
		args = []string{"n", n}
		note(setAttr(el, "data-i18n-args", "n="+n))
	}
	note(setAttr(el, "data-i18n", key))
	note(setText(el, w.msg.T(key, args...)))
	note(setHidden(el, false))
}

// showCode shows the receipt code on the receipt and asks for one of its
// groups back before the reporter can leave the receipt.
func (w *form) showCode() {
	note(setText(w.get("rl-code"), w.fu.secret.Code()))
	// Any group but the first, which a hasty reader remembers; chosen by
	// the secret, so that no other randomness is needed.
	w.fu.group = 2 + int(w.fu.secret[15])%6
	w.showText(w.get("rl-confirm-label"), "followup.confirm_label", strconv.Itoa(w.fu.group))
	note(w.get("rl-confirm").Set("value", ""))
	w.fu.pending = true
	note(setHidden(w.get("rl-fu"), false))
	w.setFinish(false)
}

// setFinish shows or hides what lets the reporter leave the receipt.
func (w *form) setFinish(show bool) {
	note(setHidden(w.get("rl-another"), !show))
	if w.fu.key != "" {
		note(setHidden(w.get("rl-confirmed"), !show || w.fu.secret == nil))
	}
}

// confirmCode checks the group the reporter typed back.
func (w *form) confirmCode() error {
	if !w.fu.pending {
		return nil
	}
	input, errP := w.get("rl-confirm"), w.get("rl-confirm-error")
	typed := strings.Map(func(r rune) rune {
		switch r {
		case 'O', 'o':
			return '0'
		case 'I', 'i', 'L', 'l':
			return '1'
		case ' ', '-':
			return -1
		}
		return r
	}, getString(input, "value"))
	want := strings.Split(w.fu.secret.Code(), "-")[w.fu.group-1]
	if !strings.EqualFold(typed, want) {
		note(setAttr(input, "aria-invalid", "true"))
		w.showText(errP, "followup.confirm_wrong", strconv.Itoa(w.fu.group))
		focus(input)
		return nil
	}
	note(removeAttr(input, "aria-invalid"))
	hideMessage(errP)
	w.fu.pending = false
	note(setHidden(w.get("rl-fu"), true))
	w.setFinish(true)
	done := w.get("rl-confirmed")
	note(setAttr(done, "tabindex", "-1"))
	focus(done)
	return nil
}

// copyCode puts the code on the clipboard and says whether it could.
func (w *form) copyCode() error {
	if w.fu.secret == nil {
		return nil
	}
	key := "followup.copy_failed"
	clip, err := safejs.Global().Get("navigator")
	if err == nil {
		clip, err = clip.Get("clipboard")
	}
	if err == nil && !clip.IsUndefined() {
		if p, err := clip.Call("writeText", w.fu.secret.Code()); err == nil {
			if _, err := await(p); err == nil {
				key = "followup.copied"
			}
		}
	}
	w.showText(w.get("rl-copied"), key, "")
	return nil
}

// forgetFollowUp drops the secret and its keys when the reporter starts
// another report.
func (w *form) forgetFollowUp() {
	w.fu.secret, w.fu.keys, w.fu.pending = nil, nil, false
	if w.fu.key == "" {
		return
	}
	note(setText(w.get("rl-code"), ""))
	note(setHidden(w.get("rl-fu"), true))
	note(setHidden(w.get("rl-confirmed"), true))
	note(setHidden(w.get("rl-have-code"), false))
	hideMessage(w.get("rl-copied"))
}

// showReturn switches between the form and the screen for coming back
// with a code.
func (w *form) showReturn(back bool) {
	have := w.get("rl-have-code")
	note(setHidden(w.el, back))
	note(setHidden(have, back))
	note(setHidden(w.get("rl-return"), !back))
	if back {
		focus(w.get("rl-code-input"))
	} else {
		focus(have)
	}
}

// fuSay puts a message in the return screen's status region, or empties
// it for key "".
func (w *form) fuSay(key string) {
	st := w.get("rl-fu-status")
	note(setAttr(st, "data-i18n", key))
	note(setText(st, w.msg.T(key)))
	if key == "" {
		note(setText(st, ""))
	}
}

// openMailbox reads the code, fetches the mailbox with a proof of work,
// and shows what it held.
func (w *form) openMailbox() error {
	input, errP, btn := w.get("rl-code-input"), w.get("rl-code-input-error"), w.get("rl-code-open")
	if getBool(btn, "disabled") {
		return nil
	}
	note(removeAttr(input, "aria-invalid"))
	hideMessage(errP)
	code := getString(input, "value")
	s, err := followup.ParseCode(code)
	if err != nil {
		// The check symbols find the group of one wrong character.
		key, n := "followup.code_wrong", ""
		if g := followup.MistakeGroup(code); g > 0 {
			key, n = "followup.code_group", strconv.Itoa(g)
		} else if strings.Contains(err.Error(), "characters, a receipt code has") {
			key = "followup.code_length"
		}
		note(setAttr(input, "aria-invalid", "true"))
		w.showText(errP, key, n)
		focus(input)
		return nil
	}
	k, err := followup.Derive(s)
	if err != nil {
		return err
	}
	note(btn.Set("disabled", true))
	defer func() { note(btn.Set("disabled", false)) }()
	w.fuSay("followup.checking")
	th, err := w.fetchThread(k, nil)
	if err != nil {
		w.fuSay("followup.fetch_failed")
		return err
	}
	w.fu.back = k
	if err := w.showThread(th); err != nil {
		return err
	}
	// Shown: now the relay may remove them. Until this fetch reaches it
	// they wait there, so an answer lost on the way, or a page closed
	// before the thread showed, loses no reply. It is sent whatever the
	// answer held, the same size, so that it tells nothing either.
	_, err = w.fetchThread(k, th.Ack)
	return err
}

// fetchThread posts the mailbox fetch and reads the answer: the replies
// that open with the code's key and carry the hotline's signature, checked
// by WebCrypto (verifyEd25519) against the key the statement is checked
// with. The fetch acknowledges the replies ack names, which an earlier
// one gave and the thread has shown, so that the relay removes them.
func (w *form) fetchThread(k *followup.Keys, ack []string) (*followup.Thread, error) {
	body := `{"mailbox":"` + k.Mailbox + `","key":"` + base64.RawURLEncoding.EncodeToString(k.RequestKey) + `"`
	if len(ack) > 0 {
		body += `,"ack":["` + strings.Join(ack, `","`) + `"]`
	}
	body += "}"
	for attempt := 0; ; attempt++ {
		proof, err := w.prover.take()
		if err != nil {
			return nil, fmt.Errorf("proof of work: %w", err)
		}
		opts, err := safejs.ValueOf(map[string]any{
			"method": "POST", "body": body, "credentials": "omit", "cache": "no-store",
			"headers": map[string]any{"Content-Type": "application/json", pow.Header: proof},
		})
		if err != nil {
			return nil, err
		}
		p, err := safejs.Global().Call("fetch", w.cfg.Mailbox, opts)
		if err != nil {
			return nil, err
		}
		resp, err := await(p)
		if err != nil {
			return nil, fmt.Errorf("network error: %w", err)
		}
		status, _ := resp.Get("status")
		code, _ := status.Int()
		var answer safejs.Value
		if jp, err := resp.Call("json"); err == nil {
			answer, _ = await(jp) // a non-JSON answer leaves it undefined
		}
		if code != 200 {
			if attempt == 0 && strings.Contains(getString(answer, "type"), "/pow-") {
				continue // a stale or spent proof: once more with a new one
			}
			return nil, fmt.Errorf("mailbox fetch: HTTP %d %s", code, getString(answer, "detail"))
		}
		replies, err := stringList(answer, "replies")
		if err != nil {
			return nil, err
		}
		return followup.Read(&followup.FetchAnswer{Replies: replies}, k, w.cfg.Hotline,
			func(text, sig []byte) (bool, error) { return verifyEd25519(w.fu.key, text, sig) })
	}
}

// showThread lists the replies, warns of refused ones, and offers an
// answer where the hotline asked a question.
func (w *form) showThread(th *followup.Thread) error {
	list, refused, box := w.get("rl-thread"), w.get("rl-refused"), w.get("rl-thread-box")
	hideMessage(refused)
	if th.Refused > 0 {
		w.showText(refused, "followup.refused", "")
	}
	for _, r := range th.Replies {
		li, err := w.d.create("li", "class", "reply", "data-kind", r.Kind)
		if err != nil {
			return err
		}
		h, _ := w.d.create("h3")
		w.showText(h, "followup.kind."+r.Kind, "")
		day := r.Sent.UTC().Format(time.DateOnly)
		date, _ := w.d.create("p", "class", "date", "data-i18n", "receipt.date", "data-i18n-args", "date="+day)
		note(setText(date, w.msg.T("receipt.date", "date", formatDate(w.cfg.Locale, day))))
		text, _ := w.d.create("p", "class", "text", "dir", "auto")
		note(setText(text, r.Text))
		_, err = li.Call("append", h, date, text)
		note(err)
		_, err = list.Call("append", li)
		note(err)
		if r.Kind == followup.KindQuestion {
			w.fu.question = r.Report
		}
	}
	n, _ := list.Get("childElementCount")
	count, _ := n.Int()
	note(setHidden(box, count == 0))
	if count == 0 {
		w.fuSay("followup.none")
	} else {
		w.fuSay("")
	}
	note(setHidden(w.get("rl-answer-form"), w.fu.question == ""))
	switch {
	case th.Refused > 0:
		note(setAttr(refused, "tabindex", "-1"))
		focus(refused)
	case count > 0:
		note(setAttr(box, "tabindex", "-1"))
		focus(box)
	}
	return nil
}

// sendAnswer sends the reporter's answer as a new report linked to the
// question's report, with the same follow-up request, so that the hotline
// can reply again.
func (w *form) sendAnswer() error {
	area, errP, btn := w.get("rl-answer"), w.get("rl-answer-error"), w.get("rl-answer-send")
	if w.fu.back == nil || w.fu.question == "" || getBool(btn, "disabled") {
		return nil
	}
	note(removeAttr(area, "aria-invalid"))
	hideMessage(errP)
	text := strings.TrimSpace(strings.ReplaceAll(getString(area, "value"), "\r\n", "\n"))
	if w.fu.answer == nil || w.fu.answer.key != w.fu.question+"\n"+text {
		<-w.keys
		if w.keysErr != nil {
			w.fuSay("error.send")
			return w.keysErr
		}
		id, err := uuid.NewRandom()
		if err != nil {
			return err
		}
		k := w.fu.back
		r := &report.Report{Version: report.Version, ID: id.String(), Hotline: w.cfg.Hotline, Site: w.cfg.Site,
			Locale: w.cfg.Locale, Created: time.Now().UTC().Truncate(time.Second),
			InReplyTo: w.fu.question, Description: text,
			FollowUp: &report.FollowUp{Mailbox: k.Mailbox, Check: k.Check, ReplyTo: k.Recipient}}
		if err := report.Validate(w.def, r, time.Now()); err != nil {
			code := "error.required"
			if text != "" {
				code = "error.too_long"
			}
			note(setAttr(area, "aria-invalid", "true"))
			w.showText(errP, code, "")
			focus(area)
			return nil
		}
		env, err := report.Seal(r, w.recipients)
		if err != nil {
			return err
		}
		w.fu.answer = &sealed{key: w.fu.question + "\n" + text, id: r.ID, envelope: env}
	}
	note(btn.Set("disabled", true))
	defer func() { note(btn.Set("disabled", false)) }()
	w.fuSay("form.sending")
	if _, err := w.postWithProof(w.fu.answer); err != nil {
		w.fuSay("error.send")
		return err
	}
	w.fu.answer, w.fu.question = nil, ""
	note(area.Set("value", ""))
	note(setHidden(w.get("rl-answer-form"), true))
	w.fuSay("followup.answer_sent")
	return nil
}

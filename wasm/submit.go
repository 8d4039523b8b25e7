//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/wasm/formstate"
)

// sealed is an envelope already made for a set of form values. A retry of
// unchanged values sends the same id and envelope, which the relay accepts
// as the same report, so a flaky network never makes two reports.
type sealed struct {
	key       string
	id        string
	envelope  []byte
	locations []report.Location
	urgent    bool
	followUp  bool // the report asks for follow-up
}

// receipt is the relay's 202 answer.
type receipt struct{ ID, Reference, Received string }

// onSubmit runs on the JavaScript event loop: it stops the browser's own
// submission and hands the work to a goroutine, since sending must wait for
// promises.
func (w *form) onSubmit(_ safejs.Value, args []safejs.Value) error {
	if len(args) > 0 {
		_, err := args[0].Call("preventDefault")
		note(err)
	}
	if getBool(w.submit, "disabled") {
		return nil
	}
	go w.sendAndLog()
	return nil
}

func (w *form) sendAndLog() {
	if err := w.send(); err != nil {
		consoleError("reportline: " + err.Error())
	}
	reportNoted("send")
}

// send validates, seals and posts the report, then shows the receipt.
func (w *form) send() error {
	if err := w.clearErrors(); err != nil {
		return err
	}
	values, withContact, err := w.values()
	if err != nil {
		return err
	}
	r, rows := report.FromValues(w.def, values, withContact)
	key, _ := report.Marshal(r)
	withFollowUp := w.wantsFollowUp()
	if withFollowUp {
		key = append(key, "\nfollow-up"...)
	}
	if w.sent == nil || w.sent.key != string(key) {
		id, err := uuid.NewRandom()
		if err != nil {
			return err
		}
		r.ID, r.Hotline, r.Site, r.Locale = id.String(), w.cfg.Hotline, w.cfg.Site, w.cfg.Locale
		r.Created = time.Now().UTC().Truncate(time.Second)
		if withFollowUp {
			if r.FollowUp, err = w.followUpRequest(); err != nil {
				return err
			}
		}
		errs, err := formstate.Check(w.def, r, w.reported, time.Now())
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return w.showErrors(errs, rows)
		}
		// Seal only to keys the hotline signed; otherwise send nothing
		// and keep what was typed.
		<-w.keys
		if w.keysErr != nil {
			note(w.say(w.msg.T("form.failed") + " " + w.msg.T("error.send_detail", "detail", w.keysErr.Error())))
			return w.keysErr
		}
		env, err := report.Seal(r, w.recipients)
		if err != nil {
			note(w.say(w.msg.T("error.send")))
			return err
		}
		w.sent = &sealed{key: string(key), id: r.ID, envelope: env, locations: r.Locations, urgent: r.IsUrgent(), followUp: withFollowUp}
	}
	note(w.submit.Set("disabled", true))
	defer func() { note(w.submit.Set("disabled", false)) }()
	note(w.say(w.msg.T("form.sending")))
	rc, err := w.postWithProof(w.sent)
	if err != nil {
		note(w.say(w.msg.T("error.send") + " " + w.msg.T("error.send_detail", "detail", err.Error())))
		return err
	}
	w.reported.Add(w.sent.locations)
	return w.showReceipt(rc)
}

// postWithProof sends the envelope with a proof of work. A proof the relay
// found stale or spent is replaced once; a busy relay is waited for once,
// as long as it asks.
func (w *form) postWithProof(s *sealed) (*receipt, error) {
	for attempt := 0; ; attempt++ {
		proof, err := w.prover.take()
		if err != nil {
			return nil, fmt.Errorf("proof of work: %w", err)
		}
		rc, retry, err := w.post(s, proof)
		if err == nil || attempt > 0 || retry < 0 {
			return rc, err
		}
		time.Sleep(retry)
	}
}

// post sends the envelope with fetch and reads the answer. retry says
// whether sending again may help: -1 no, else after that long.
func (w *form) post(s *sealed, proof string) (rc *receipt, retry time.Duration, err error) {
	u8, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, -1, err
	}
	body, err := u8.New(len(s.envelope))
	if err != nil {
		return nil, -1, err
	}
	if _, err := safejs.CopyBytesToJS(body, s.envelope); err != nil {
		return nil, -1, err
	}
	headers := map[string]any{"Content-Type": "application/octet-stream", pow.Header: proof}
	if w.trapped() {
		headers["Report-Trap"] = "1"
	}
	if s.urgent && w.cfg.Urgent {
		headers["Report-Priority"] = "urgent"
	}
	opts, err := safejs.ValueOf(map[string]any{
		"method": "POST", "headers": headers, "credentials": "omit", "cache": "no-store",
	})
	if err != nil {
		return nil, -1, err
	}
	if err := opts.Set("body", body); err != nil {
		return nil, -1, err
	}
	p, err := safejs.Global().Call("fetch", w.cfg.Endpoint+s.id, opts)
	if err != nil {
		return nil, -1, err
	}
	resp, err := await(p)
	if err != nil {
		return nil, 0, fmt.Errorf("network error: %w", err)
	}
	statusV, _ := resp.Get("status")
	status, _ := statusV.Int()
	var answer safejs.Value
	if jp, err := resp.Call("json"); err == nil {
		answer, _ = await(jp) // a non-JSON answer leaves it undefined
	}
	if status != 202 {
		retry = formstate.Retry(status, getString(answer, "type"), header(resp, "Retry-After"))
		if title := getString(answer, "title"); title != "" {
			return nil, retry, fmt.Errorf("%s (%s)", title, getString(answer, "detail"))
		}
		return nil, retry, fmt.Errorf("HTTP %d", status)
	}
	rc = &receipt{ID: getString(answer, "id"), Reference: getString(answer, "reference"), Received: getString(answer, "received")}
	if rc.ID != s.id {
		return nil, -1, errors.New("unexpected answer from the relay")
	}
	return rc, -1, nil
}

// showReceipt replaces the form with the receipt and moves focus to it.
func (w *form) showReceipt(rc *receipt) error {
	ref, err := w.d.byID("rl-reference")
	if err != nil {
		return err
	}
	note(setText(ref, rc.Reference))
	if date, err := w.d.byID("rl-date"); err == nil {
		note(setAttr(date, "data-i18n", "receipt.date"))
		note(setAttr(date, "data-i18n-args", "date="+rc.Received))
		note(setText(date, w.msg.T("receipt.date", "date", formatDate(w.cfg.Locale, rc.Received))))
	}
	section, err := w.d.byID("rl-receipt")
	if err != nil {
		return err
	}
	note(setHidden(w.el, true))
	if w.fu.key != "" {
		note(setHidden(w.get("rl-have-code"), true))
	}
	note(setHidden(section, false))
	note(w.say(""))
	if w.sent.followUp {
		w.showCode()
	} else {
		w.setFinish(true)
	}
	// Nothing tells the partner page that a report was sent: any script
	// on it could listen.
	_, err = section.Call("focus")
	return err
}

// another clears the form for a new report; the addresses already sent
// stay known for the visit.
func (w *form) another() error {
	if _, err := w.el.Call("reset"); err != nil {
		return err
	}
	extra, err := w.queryAll("#locations-list li + li")
	if err != nil {
		return err
	}
	for _, li := range extra {
		_, err := li.Call("remove")
		note(err)
	}
	for _, id := range []string{"rl-contact", "rl-under18"} {
		if el, err := w.d.byID(id); err == nil {
			note(el.Set("open", false))
		}
	}
	w.sent = nil
	w.forgetFollowUp()
	if err := w.clearErrors(); err != nil {
		return err
	}
	w.updateConditions()
	w.updateCounters()
	section, err := w.d.byID("rl-receipt")
	if err != nil {
		return err
	}
	note(setHidden(section, true))
	note(setHidden(w.el, false))
	first, err := w.d.byID("locations-0")
	if err != nil {
		return err
	}
	_, err = first.Call("focus")
	return err
}

// header reads one header of a fetch Response.
func header(resp safejs.Value, name string) string {
	h, err := resp.Get("headers")
	if err != nil {
		return ""
	}
	v, err := h.Call("get", name)
	if err != nil || v.IsNull() {
		return ""
	}
	s, _ := v.String()
	return s
}

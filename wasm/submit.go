//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
)

// sealed is an envelope already made for a set of form values. A retry of
// unchanged values sends the same id and envelope, which the relay accepts
// as the same report, so a flaky network never makes two reports.
type sealed struct {
	key       string
	id        string
	envelope  []byte
	locations []report.Location
}

// receipt is the relay's 202 answer.
type receipt struct{ ID, Reference, Received string }

// onSubmit runs on the JavaScript event loop: it stops the browser's own
// submission and hands the work to a goroutine, since sending must wait for
// promises.
func (w *widget) onSubmit(_ safejs.Value, args []safejs.Value) error {
	if len(args) > 0 {
		args[0].Call("preventDefault")
	}
	if getBool(w.submit, "disabled") {
		return nil
	}
	go w.sendAndLog()
	return nil
}

func (w *widget) sendAndLog() {
	if err := w.send(); err != nil {
		consoleError("reportline: " + err.Error())
	}
}

// send validates, seals and posts the report, then shows the receipt.
func (w *widget) send() error {
	if err := w.clearErrors(); err != nil {
		return err
	}
	values, withContact, err := w.values()
	if err != nil {
		return err
	}
	r, rows := report.FromValues(w.form, values, withContact)
	key, _ := report.Marshal(r)
	if w.sent == nil || w.sent.key != string(key) {
		id, err := uuid.NewRandom()
		if err != nil {
			return err
		}
		r.ID, r.Hotline, r.Site, r.Locale = id.String(), w.cfg.Hotline, w.cfg.Site, w.cfg.Locale
		r.Created = time.Now().UTC().Truncate(time.Second)
		var errs []report.FieldError
		var ve *report.ValidationError
		if err := report.Validate(w.form, r, time.Now()); errors.As(err, &ve) {
			errs = ve.Errors
		} else if err != nil {
			return err
		}
		for i, l := range r.Locations {
			if w.reported[report.NormalizeLocation(l.Value)] {
				errs = append(errs, report.FieldError{Field: "locations", Index: i, Code: "already_reported"})
			}
		}
		if len(errs) > 0 {
			return w.showErrors(errs, rows)
		}
		env, err := report.Seal(r, w.cfg.recipients)
		if err != nil {
			w.say(w.msg.T("error.send"))
			return err
		}
		w.sent = &sealed{key: string(key), id: r.ID, envelope: env, locations: r.Locations}
	}
	w.submit.Set("disabled", true)
	defer w.submit.Set("disabled", false)
	w.say(w.msg.T("form.sending"))
	rc, err := w.post(w.sent)
	if err != nil {
		w.say(w.msg.T("error.send") + " " + w.msg.T("error.send_detail", "detail", err.Error()))
		return err
	}
	for _, l := range w.sent.locations {
		w.reported[report.NormalizeLocation(l.Value)] = true
	}
	return w.showReceipt(rc)
}

// post sends the envelope with fetch and reads the answer.
func (w *widget) post(s *sealed) (*receipt, error) {
	u8, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	body, err := u8.New(len(s.envelope))
	if err != nil {
		return nil, err
	}
	if _, err := safejs.CopyBytesToJS(body, s.envelope); err != nil {
		return nil, err
	}
	headers := map[string]any{"Content-Type": "application/octet-stream"}
	if w.trapped() {
		headers["Report-Trap"] = "1"
	}
	opts, err := safejs.ValueOf(map[string]any{
		"method": "POST", "headers": headers, "credentials": "omit", "cache": "no-store",
	})
	if err != nil {
		return nil, err
	}
	if err := opts.Set("body", body); err != nil {
		return nil, err
	}
	p, err := safejs.Global().Call("fetch", w.cfg.Endpoint+s.id, opts)
	if err != nil {
		return nil, err
	}
	resp, err := await(p)
	if err != nil {
		return nil, fmt.Errorf("network error: %w", err)
	}
	statusV, _ := resp.Get("status")
	status, _ := statusV.Int()
	var answer safejs.Value
	if jp, err := resp.Call("json"); err == nil {
		answer, _ = await(jp) // a non-JSON answer leaves it undefined
	}
	if status != 202 {
		if title := getString(answer, "title"); title != "" {
			return nil, fmt.Errorf("%s (%s)", title, getString(answer, "detail"))
		}
		return nil, fmt.Errorf("HTTP %d", status)
	}
	rc := &receipt{ID: getString(answer, "id"), Reference: getString(answer, "reference"), Received: getString(answer, "received")}
	if rc.ID != s.id {
		return nil, errors.New("unexpected answer from the relay")
	}
	return rc, nil
}

// showReceipt replaces the form with the receipt and moves focus to it.
func (w *widget) showReceipt(rc *receipt) error {
	ref, err := w.d.byID("rl-reference")
	if err != nil {
		return err
	}
	setText(ref, rc.Reference)
	if date, err := w.d.byID("rl-date"); err == nil {
		setText(date, w.msg.T("receipt.date", "date", rc.Received))
	}
	section, err := w.d.byID("rl-receipt")
	if err != nil {
		return err
	}
	setHidden(w.el, true)
	setHidden(section, false)
	w.say("")
	if _, err := section.Call("focus"); err != nil {
		return err
	}
	return w.emit("rl:submitted")
}

// another clears the form for a new report; the addresses already sent
// stay known for the visit.
func (w *widget) another() error {
	if _, err := w.el.Call("reset"); err != nil {
		return err
	}
	extra, err := w.queryAll("#locations-list li + li")
	if err != nil {
		return err
	}
	for _, li := range extra {
		li.Call("remove")
	}
	for _, id := range []string{"rl-contact", "rl-under18"} {
		if el, err := w.d.byID(id); err == nil {
			el.Set("open", false)
		}
	}
	w.sent = nil
	if err := w.clearErrors(); err != nil {
		return err
	}
	w.updateConditions()
	w.updateCounters()
	section, err := w.d.byID("rl-receipt")
	if err != nil {
		return err
	}
	setHidden(section, true)
	setHidden(w.el, false)
	first, err := w.d.byID("locations-0")
	if err != nil {
		return err
	}
	_, err = first.Call("focus")
	return err
}

// emit dispatches a content-free event on the form; boot.js passes it on
// to the partner page.
func (w *widget) emit(name string) error {
	ev, err := safejs.Global().Get("Event")
	if err != nil {
		return err
	}
	e, err := ev.New(name)
	if err != nil {
		return err
	}
	_, err = w.el.Call("dispatchEvent", e)
	return err
}

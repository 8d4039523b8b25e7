//go:build js && wasm

package main

import (
	"encoding/json"
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
	key      string
	id       string
	envelope []byte
}

// receipt is the relay's 202 answer.
type receipt struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Received  string `json:"received"`
}

// problem is the relay's RFC 9457 error answer.
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

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
	go func() {
		if err := w.send(); err != nil {
			consoleError("reportline: " + err.Error())
		}
	}()
	return nil
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
	key, _ := json.Marshal(r)
	if w.sent == nil || w.sent.key != string(key) {
		id, err := uuid.NewRandom()
		if err != nil {
			return err
		}
		r.ID, r.Hotline, r.Site, r.Locale = id.String(), w.cfg.Hotline, w.cfg.Site, w.cfg.Locale
		r.Created = time.Now().UTC().Truncate(time.Second)
		if err := report.Validate(w.form, r, time.Now()); err != nil {
			var ve *report.ValidationError
			if errors.As(err, &ve) {
				return w.showErrors(ve, rows)
			}
			return err
		}
		env, err := report.Seal(r, w.cfg.recipients)
		if err != nil {
			w.say(w.msg.T("error.send"))
			return err
		}
		w.sent = &sealed{key: string(key), id: r.ID, envelope: env}
	}
	w.submit.Set("disabled", true)
	defer w.submit.Set("disabled", false)
	w.say(getDataset(w.status, "sending"))
	rc, err := w.post(w.sent)
	if err != nil {
		w.say(w.msg.T("error.send") + " " + w.msg.T("error.send_detail", "detail", err.Error()))
		return err
	}
	return w.showReceipt(rc)
}

// post sends the envelope with fetch and decodes the answer.
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
	opts, err := safejs.ValueOf(map[string]any{
		"method":      "POST",
		"headers":     map[string]any{"Content-Type": "application/octet-stream"},
		"credentials": "omit",
		"cache":       "no-store",
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
	textP, err := resp.Call("text")
	if err != nil {
		return nil, err
	}
	textV, err := await(textP)
	if err != nil {
		return nil, err
	}
	text, _ := textV.String()
	statusV, _ := resp.Get("status")
	status, _ := statusV.Int()
	if status != 202 {
		var pr problem
		if json.Unmarshal([]byte(text), &pr) == nil && pr.Title != "" {
			return nil, fmt.Errorf("%s (%s)", pr.Title, pr.Detail)
		}
		return nil, fmt.Errorf("HTTP %d", status)
	}
	var rc receipt
	if err := json.Unmarshal([]byte(text), &rc); err != nil || rc.ID != s.id {
		return nil, errors.New("unexpected answer from the relay")
	}
	return &rc, nil
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
	ev, err := safejs.Global().Get("Event")
	if err != nil {
		return err
	}
	submitted, err := ev.New("rl:submitted")
	if err != nil {
		return err
	}
	_, err = w.el.Call("dispatchEvent", submitted)
	return err
}

func getDataset(el safejs.Value, key string) string {
	ds, err := el.Get("dataset")
	if err != nil {
		return ""
	}
	return getString(ds, key)
}

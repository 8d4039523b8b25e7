//go:build js && wasm

package main

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
)

// config is what the relay writes into the frame as #rl-config.
type config struct {
	Site, Hotline, Endpoint, Challenge, Locale, ParentOrigin string
	Mailbox                                                  string // follow-up's fetches, where offered
	Categories                                               []string
	Urgent                                                   bool         // the relay takes the urgent marker
	Messages                                                 safejs.Value // locale → catalog URL
	// Statement is the hotline's signed key statement; trust says which
	// key it must verify against.
	Statement string
	trust     trust
}

func main() {
	if err := start(); err != nil {
		consoleError("reportline: the form could not start: " + err.Error())
		if d, derr := newDOM(); derr == nil {
			if el, ferr := d.byID("rl-form"); ferr == nil {
				if ds, err := el.Get("dataset"); err == nil {
					note(ds.Set("state", "failed"))
				}
			}
			if st, serr := d.byID("rl-status"); serr == nil {
				if msg, err := loadMessages(d); err == nil {
					note(setText(st, msg.T("form.failed")))
				}
			}
		}
		reportNoted("start")
		return
	}
	select {} // serve events for the page's life
}

// parseJSON parses JSON with the browser's own parser, so the module does
// not carry encoding/json.
func parseJSON(text string) (safejs.Value, error) {
	j, err := safejs.Global().Get("JSON")
	if err != nil {
		return safejs.Value{}, err
	}
	return j.Call("parse", text)
}

func readConfig(d *dom) (config, error) {
	el, err := d.byID("rl-config")
	if err != nil {
		return config{}, err
	}
	v, err := parseJSON(getString(el, "textContent"))
	if err != nil {
		return config{}, fmt.Errorf("failed to read the frame's configuration: %w", err)
	}
	cfg := config{
		Site: getString(v, "site"), Hotline: getString(v, "hotline"), Endpoint: getString(v, "endpoint"),
		Challenge: getString(v, "challenge"), Mailbox: optString(v, "mailbox"),
		Locale: getString(v, "locale"), ParentOrigin: getString(v, "parentOrigin"),
	}
	cfg.Messages, _ = v.Get("messages")
	cfg.Urgent = getBool(v, "urgent")
	cfg.Statement = getString(v, "statement")
	if cfg.trust, err = readTrust(v); err != nil {
		return cfg, err
	}
	if cfg.Categories, err = stringList(v, "categories"); err != nil {
		return cfg, err
	}
	if cfg.Site == "" || cfg.Hotline == "" || cfg.Endpoint == "" || cfg.Challenge == "" {
		return cfg, errors.New("the frame's configuration is incomplete")
	}
	return cfg, nil
}

// stringList reads an array of strings from a JavaScript object.
func stringList(v safejs.Value, prop string) ([]string, error) {
	arr, err := v.Get(prop)
	if err != nil {
		return nil, err
	}
	out, err := stringsOf(arr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prop, err)
	}
	return out, nil
}

// stringsOf reads a JavaScript array of strings.
func stringsOf(arr safejs.Value) ([]string, error) {
	n, err := arr.Length()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		item, err := arr.Index(i)
		if err != nil {
			return nil, err
		}
		s, err := item.String()
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// start binds the module to the rendered form.
func start() error {
	d, err := newDOM()
	if err != nil {
		return err
	}
	cfg, err := readConfig(d)
	if err != nil {
		return err
	}
	msg, err := loadMessages(d)
	if err != nil {
		return err
	}
	w := &form{d: d, cfg: cfg, msg: msg, def: report.DefaultForm().WithCategories(cfg.Categories), reported: map[string]bool{}}
	for id, dst := range map[string]*safejs.Value{"rl-form": &w.el, "rl-status": &w.status, "rl-summary": &w.summary, "rl-submit": &w.submit} {
		if *dst, err = d.byID(id); err != nil {
			return err
		}
	}
	if err := w.bind(); err != nil {
		return err
	}
	if err := w.bindFollowUp(); err != nil {
		return err
	}
	// Solve the relay's proof of work while the reporter types, so that
	// sending does not wait for it.
	w.prover = startProver(cfg.Challenge)
	// Check the hotline's keys before the reporter is done typing.
	w.keys = make(chan struct{})
	go func() {
		defer close(w.keys)
		w.recipients, w.keysErr = verifiedRecipients(cfg.Statement, cfg.Hotline, cfg.trust)
		if w.keysErr != nil {
			consoleError("reportline: the report cannot be sealed to the hotline's keys: " + w.keysErr.Error())
		}
	}()
	ds, err := w.el.Get("dataset")
	if err != nil {
		return err
	}
	pending := getString(ds, "pending") == "1"
	if err := ds.Set("state", "ready"); err != nil {
		return err
	}
	// A mark for the speed benchmark and for anyone profiling the frame.
	perfMark("reportline:ready")
	if pending {
		ds.Delete("pending")
		go w.sendAndLog()
	}
	return nil
}

// bind attaches the form's behaviour to its elements.
func (w *form) bind() error {
	binds := []struct {
		id, event string
		fn        func(this safejs.Value, args []safejs.Value) error
	}{
		{"rl-form", "submit", w.onSubmit},
		{"rl-form", "change", w.onChange},
		{"rl-form", "input", w.onInput},
		{"locations-add", "click", func(safejs.Value, []safejs.Value) error { return w.addLocation() }},
		{"rl-another", "click", func(safejs.Value, []safejs.Value) error { return w.another() }},
		{"rl-lang", "change", w.onLanguage},
	}
	for _, b := range binds {
		el, err := w.d.byID(b.id)
		if err != nil {
			return err
		}
		if err := on(el, b.event, b.id+" "+b.event, b.fn); err != nil {
			return err
		}
	}
	if err := w.updateConditions(); err != nil {
		return err
	}
	if err := w.copyOptions(); err != nil {
		return err
	}
	return w.updateCounters()
}

// copyOptions fills each menu whose page lists its options only once
// (Field.OptionsFrom) from the menu that has them.
func (w *form) copyOptions() error {
	for _, f := range w.def.Fields {
		if f.OptionsFrom == "" {
			continue
		}
		dst, err := w.d.byID(f.Name)
		if err != nil {
			return err
		}
		src, err := w.queryAll("#" + f.OptionsFrom + " option[value]:not([value=''])")
		if err != nil {
			return err
		}
		for _, o := range src {
			c, err := o.Call("cloneNode", true)
			if err != nil {
				return err
			}
			if _, err := dst.Call("append", c); err != nil {
				return err
			}
		}
	}
	return nil
}

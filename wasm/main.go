//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
)

// config is what the relay writes into the frame as #rl-config.
type config struct {
	Site         string   `json:"site"`
	Hotline      string   `json:"hotline"`
	Recipients   []string `json:"recipients"`
	Categories   []string `json:"categories"`
	Endpoint     string   `json:"endpoint"`
	Locale       string   `json:"locale"`
	ParentOrigin string   `json:"parentOrigin"`

	recipients *report.Recipients
}

func main() {
	if err := start(); err != nil {
		consoleError("reportline: the form could not start: " + err.Error())
		if d, derr := newDOM(); derr == nil {
			if form, ferr := d.byID("rl-form"); ferr == nil {
				if ds, err := form.Get("dataset"); err == nil {
					ds.Set("state", "failed")
				}
			}
			if st, serr := d.byID("rl-status"); serr == nil {
				setText(st, getDataset(st, "failed"))
			}
		}
		return
	}
	select {} // serve events for the page's life
}

// start binds the module to the rendered form.
func start() error {
	d, err := newDOM()
	if err != nil {
		return err
	}
	cfgEl, err := d.byID("rl-config")
	if err != nil {
		return err
	}
	var cfg config
	if err := json.Unmarshal([]byte(getString(cfgEl, "textContent")), &cfg); err != nil {
		return fmt.Errorf("failed to read the frame's configuration: %w", err)
	}
	if cfg.recipients, err = report.ParseRecipients(cfg.Recipients); err != nil {
		return err
	}
	msg, err := report.LoadCatalog(cfg.Locale)
	if err != nil {
		if msg, err = report.LoadCatalog(report.DefaultLocale); err != nil {
			return err
		}
	}
	w := &widget{d: d, cfg: cfg, msg: msg, form: report.DefaultForm().WithCategories(cfg.Categories)}
	for id, dst := range map[string]*safejs.Value{"rl-form": &w.el, "rl-status": &w.status, "rl-summary": &w.summary, "rl-submit": &w.submit} {
		if *dst, err = d.byID(id); err != nil {
			return err
		}
	}
	if err := on(w.el, "submit", "submit", w.onSubmit); err != nil {
		return err
	}
	add, err := d.byID("locations-add")
	if err != nil {
		return err
	}
	if err := on(add, "click", "add location", func(safejs.Value, []safejs.Value) error { return w.addLocation() }); err != nil {
		return err
	}
	ds, err := w.el.Get("dataset")
	if err != nil {
		return err
	}
	pending := getString(ds, "pending") == "1"
	if err := ds.Set("state", "ready"); err != nil {
		return err
	}
	if pending {
		ds.Delete("pending")
		go w.send()
	}
	return nil
}

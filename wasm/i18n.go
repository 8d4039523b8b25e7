//go:build js && wasm

package main

import (
	"fmt"
	"slices"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/wasm/formstate"
)

// messages are one locale's catalog, as the JavaScript object the relay
// wrote into the page or served as JSON.
type messages struct{ v safejs.Value }

// T returns the message for key filled in by report.Format, which
// isolates every value for bidirectional text; a missing key returns the
// key.
func (m messages) T(key string, args ...string) string {
	s := getString(m.v, key)
	if s == "" {
		return key
	}
	return report.Format(s, args...)
}

// loadMessages reads the catalog the relay wrote into the page.
func loadMessages(d *dom) (messages, error) {
	el, err := d.byID("rl-messages")
	if err != nil {
		return messages{}, err
	}
	v, err := parseJSON(getString(el, "textContent"))
	if err != nil {
		return messages{}, fmt.Errorf("failed to read messages: %w", err)
	}
	return messages{v}, nil
}

// onLanguage switches the form to another language in place: every text
// is replaced, nothing typed is lost. Each choice fetches its catalogue;
// only the last choice's is applied, in whatever order the answers come
// (two arrow presses from en to ar pass through de).
func (w *form) onLanguage(this safejs.Value, _ []safejs.Value) error {
	locale := getString(this, "value")
	url := getString(w.cfg.Messages, locale)
	if url == "" {
		return fmt.Errorf("no messages for %q", locale)
	}
	w.langSeq++
	seq := w.langSeq
	go func() {
		// A stale choice's failure does not matter either.
		if err := w.switchLanguage(seq, locale, url); err != nil && seq == w.langSeq {
			consoleError("reportline: " + err.Error())
		}
		reportNoted("language")
	}()
	return nil
}

// switchLanguage applies the catalogue at url, unless a later choice
// (seq is this one's number) has been made meanwhile.
func (w *form) switchLanguage(seq int, locale, url string) error {
	p, err := safejs.Global().Call("fetch", url)
	if err != nil {
		return err
	}
	resp, err := await(p)
	if err != nil {
		return err
	}
	jp, err := resp.Call("json")
	if err != nil {
		return err
	}
	cat, err := await(jp)
	if err != nil {
		return err
	}
	if seq != w.langSeq {
		return nil // stale: the later choice's answer applies
	}
	w.msg = messages{cat}
	w.cfg.Locale = locale
	if err := w.retranslate(); err != nil {
		return err
	}
	html, err := w.d.doc.Get("documentElement")
	if err != nil {
		return err
	}
	note(setAttr(html, "lang", locale))
	dir := "ltr"
	if report.RTL(locale) {
		dir = "rtl"
	}
	note(setAttr(html, "dir", dir))
	if err := w.relabelCountries(locale); err != nil {
		consoleError("reportline: country names: " + err.Error())
	}
	return w.updateCounters()
}

// retranslate sets the text of every element marked data-i18n.
func (w *form) retranslate() error {
	nodes, err := w.d.doc.Call("querySelectorAll", "[data-i18n], [data-i18n-aria]")
	if err != nil {
		return err
	}
	n, err := nodes.Length()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		el, err := nodes.Index(i)
		if err != nil {
			return err
		}
		args := formstate.Args(getAttr(el, "data-i18n-args"), func(day string) string { return formatDate(w.cfg.Locale, day) })
		if key := getAttr(el, "data-i18n"); key != "" {
			note(setText(el, w.msg.T(key, args...)))
		}
		if key := getAttr(el, "data-i18n-aria"); key != "" {
			note(setAttr(el, "aria-label", w.msg.T(key, args...)))
		}
	}
	return nil
}

// formatDate writes a day (YYYY-MM-DD, UTC) as the reader's language
// writes dates, with the browser's Intl.DateTimeFormat; if that fails, the
// day stays as it is.
func formatDate(locale, day string) string {
	intl, err := safejs.Global().Get("Intl")
	if err != nil {
		return day
	}
	ctor, err := intl.Get("DateTimeFormat")
	if err != nil {
		return day
	}
	opts, err := safejs.ValueOf(map[string]any{"dateStyle": "long", "timeZone": "UTC"})
	if err != nil {
		return day
	}
	f, err := ctor.New(locale, opts)
	if err != nil {
		return day
	}
	date, err := safejs.Global().Get("Date")
	if err != nil {
		return day
	}
	d, err := date.New(day + "T00:00:00Z")
	if err != nil {
		return day
	}
	v, err := f.Call("format", d) // a RangeError for an invalid day
	if err != nil {
		return day
	}
	s, err := v.String()
	if err != nil {
		return day
	}
	return s
}

// relabelCountries names the countries in the new language with the
// browser's own locale data (Intl.DisplayNames), sorted for that language.
func (w *form) relabelCountries(locale string) error {
	intl, err := safejs.Global().Get("Intl")
	if err != nil {
		return err
	}
	dnCtor, err := intl.Get("DisplayNames")
	if err != nil || dnCtor.IsUndefined() {
		return fmt.Errorf("Intl.DisplayNames is not available")
	}
	opts, err := safejs.ValueOf(map[string]any{"type": "region"})
	if err != nil {
		return err
	}
	dn, err := dnCtor.New([]any{locale}, opts)
	if err != nil {
		return err
	}
	collCtor, err := intl.Get("Collator")
	if err != nil {
		return err
	}
	coll, err := collCtor.New(locale)
	if err != nil {
		return err
	}
	selects, err := w.d.doc.Call("querySelectorAll", "select.country")
	if err != nil {
		return err
	}
	ns, _ := selects.Length()
	for i := 0; i < ns; i++ {
		sel, err := selects.Index(i)
		if err != nil {
			return err
		}
		if err := relabelSelect(sel, dn, coll); err != nil {
			return err
		}
	}
	return nil
}

func relabelSelect(sel, dn, coll safejs.Value) error {
	opts, err := sel.Get("options")
	if err != nil {
		return err
	}
	n, _ := opts.Length()
	type opt struct {
		el   safejs.Value
		name string
	}
	var list []opt
	for i := 0; i < n; i++ {
		o, err := opts.Index(i)
		if err != nil {
			return err
		}
		code := getString(o, "value")
		if code == "" {
			continue
		}
		if name, err := dn.Call("of", code); err == nil {
			s, _ := name.String()
			note(setText(o, s))
			list = append(list, opt{o, s})
		}
	}
	slices.SortStableFunc(list, func(a, b opt) int {
		c, err := coll.Call("compare", a.name, b.name)
		if err != nil {
			return 0
		}
		v, _ := c.Int()
		return v
	})
	for _, o := range list {
		if _, err := sel.Call("append", o.el); err != nil {
			return err
		}
	}
	return nil
}

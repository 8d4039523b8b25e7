//go:build js && wasm

package main

import (
	"fmt"

	"github.com/hack-pad/safejs"
)

// dom wraps the few document operations the form needs, each returning an
// error instead of panicking.
type dom struct{ doc safejs.Value }

func newDOM() (*dom, error) {
	doc, err := safejs.Global().Get("document")
	if err != nil {
		return nil, err
	}
	return &dom{doc: doc}, nil
}

// byID returns the element with the id, or an error if there is none.
func (d *dom) byID(id string) (safejs.Value, error) {
	el, err := d.doc.Call("getElementById", id)
	if err != nil {
		return el, err
	}
	if el.IsNull() {
		return el, fmt.Errorf("no element #%s", id)
	}
	return el, nil
}

// create makes an element with attributes.
func (d *dom) create(tag string, attrs ...string) (safejs.Value, error) {
	el, err := d.doc.Call("createElement", tag)
	if err != nil {
		return el, err
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		if _, err := el.Call("setAttribute", attrs[i], attrs[i+1]); err != nil {
			return el, err
		}
	}
	return el, nil
}

func setText(el safejs.Value, s string) error { return el.Set("textContent", s) }

func setHidden(el safejs.Value, hidden bool) error { return el.Set("hidden", hidden) }

func getString(v safejs.Value, prop string) string {
	p, err := v.Get(prop)
	if err != nil {
		return ""
	}
	s, _ := p.String()
	return s
}

func getBool(v safejs.Value, prop string) bool {
	p, err := v.Get(prop)
	if err != nil {
		return false
	}
	b, _ := p.Bool()
	return b
}

func setAttr(el safejs.Value, name, value string) error {
	_, err := el.Call("setAttribute", name, value)
	return err
}

func removeAttr(el safejs.Value, name string) error {
	_, err := el.Call("removeAttribute", name)
	return err
}

// on adds an event listener and keeps the function for the page's life.
func on(target safejs.Value, event, name string, fn func(this safejs.Value, args []safejs.Value) error) error {
	f, err := callback(name, fn)
	if err != nil {
		return err
	}
	_, err = target.Call("addEventListener", event, f.Value())
	return err
}

func getAttr(el safejs.Value, name string) string {
	v, err := el.Call("getAttribute", name)
	if err != nil || v.IsNull() {
		return ""
	}
	s, _ := v.String()
	return s
}

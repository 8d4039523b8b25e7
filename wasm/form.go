//go:build js && wasm

package main

import (
	"fmt"
	"strconv"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
)

// widget is the report form in the page, bound to the module.
type widget struct {
	d       *dom
	cfg     config
	form    *report.Form
	msg     report.Catalog
	el      safejs.Value // the <form>
	status  safejs.Value
	summary safejs.Value
	submit  safejs.Value
	rowSeq  int
	sent    *sealed // the last envelope, reused for an unchanged retry
}

// values reads the form's current values.
func (w *widget) values() (report.Values, bool, error) {
	ctor, err := safejs.Global().Get("FormData")
	if err != nil {
		return nil, false, err
	}
	fd, err := ctor.New(w.el)
	if err != nil {
		return nil, false, err
	}
	v := report.Values{}
	for _, f := range w.form.Fields {
		all, err := fd.Call("getAll", f.Name)
		if err != nil {
			return nil, false, err
		}
		n, err := all.Length()
		if err != nil {
			return nil, false, err
		}
		for i := 0; i < n; i++ {
			item, err := all.Index(i)
			if err != nil {
				return nil, false, err
			}
			s, err := item.String()
			if err != nil {
				return nil, false, fmt.Errorf("field %s: %w", f.Name, err)
			}
			v[f.Name] = append(v[f.Name], s)
		}
	}
	contact, err := w.d.byID("rl-contact")
	if err != nil {
		return nil, false, err
	}
	return v, getBool(contact, "open"), nil
}

// locationInputs returns the location inputs in row order.
func (w *widget) locationInputs() ([]safejs.Value, error) {
	list, err := w.d.byID("locations-list")
	if err != nil {
		return nil, err
	}
	nodes, err := list.Call("querySelectorAll", "input[name=locations]")
	if err != nil {
		return nil, err
	}
	n, err := nodes.Length()
	if err != nil {
		return nil, err
	}
	out := make([]safejs.Value, 0, n)
	for i := 0; i < n; i++ {
		el, err := nodes.Index(i)
		if err != nil {
			return nil, err
		}
		out = append(out, el)
	}
	return out, nil
}

// addLocation adds a row for one more location and focuses it.
func (w *widget) addLocation() error {
	inputs, err := w.locationInputs()
	if err != nil {
		return err
	}
	if len(inputs) >= report.MaxLocations {
		return w.say(w.msg.T("error.too_many"))
	}
	w.rowSeq++
	id := "locations-" + strconv.Itoa(w.rowSeq)
	list, err := w.d.byID("locations-list")
	if err != nil {
		return err
	}
	li, err := w.d.create("li")
	if err != nil {
		return err
	}
	input, err := w.d.create("input", "type", "text", "name", "locations", "id", id,
		"inputmode", "url", "autocomplete", "off", "spellcheck", "false",
		"maxlength", strconv.Itoa(report.MaxLocationLen),
		"aria-label", w.msg.T("field.locations.label")+" "+strconv.Itoa(len(inputs)+1),
		"aria-describedby", "locations-hint "+id+"-error")
	if err != nil {
		return err
	}
	errP, err := w.d.create("p", "class", "error", "id", id+"-error", "hidden", "")
	if err != nil {
		return err
	}
	remove, err := w.d.create("button", "type", "button", "class", "secondary remove")
	if err != nil {
		return err
	}
	setText(remove, w.msg.T("field.locations.remove"))
	if err := on(remove, "click", "remove location", func(safejs.Value, []safejs.Value) error {
		return w.removeLocation(li)
	}); err != nil {
		return err
	}
	if _, err := li.Call("append", input, remove, errP); err != nil {
		return err
	}
	if _, err := list.Call("append", li); err != nil {
		return err
	}
	_, err = input.Call("focus")
	return err
}

// removeLocation removes a row and moves focus to the add button, so a
// keyboard user is not left nowhere.
func (w *widget) removeLocation(li safejs.Value) error {
	if _, err := li.Call("remove"); err != nil {
		return err
	}
	add, err := w.d.byID("locations-add")
	if err != nil {
		return err
	}
	_, err = add.Call("focus")
	return err
}

// clearErrors removes every error mark.
func (w *widget) clearErrors() error {
	for _, sel := range []string{"[aria-invalid]", ".error"} {
		nodes, err := w.el.Call("querySelectorAll", sel)
		if err != nil {
			return err
		}
		n, _ := nodes.Length()
		for i := 0; i < n; i++ {
			el, err := nodes.Index(i)
			if err != nil {
				return err
			}
			if sel == ".error" {
				setText(el, "")
				setHidden(el, true)
			} else {
				removeAttr(el, "aria-invalid")
			}
		}
	}
	setHidden(w.summary, true)
	return nil
}

// showErrors marks each field with its message, fills the summary (a live
// region, so it is announced) and focuses the first field in error.
func (w *widget) showErrors(ve *report.ValidationError, rows []int) error {
	inputs, err := w.locationInputs()
	if err != nil {
		return err
	}
	var first safejs.Value
	haveFirst := false
	for _, fe := range ve.Errors {
		inputID := fe.Field
		if fe.Field == "locations" {
			row := 0
			if fe.Index >= 0 && fe.Index < len(rows) {
				row = rows[fe.Index]
			}
			if row >= len(inputs) {
				continue
			}
			inputID = getString(inputs[row], "id")
		}
		input, err := w.d.byID(inputID)
		if err != nil {
			// A field the reporter does not see (id, time): a bug, not
			// theirs to fix; say so in general terms.
			consoleError("reportline: " + fe.Error())
			continue
		}
		setAttr(input, "aria-invalid", "true")
		if p, err := w.d.byID(inputID + "-error"); err == nil {
			setText(p, w.msg.T("error."+fe.Code))
			setHidden(p, false)
		}
		if !haveFirst {
			first, haveFirst = input, true
		}
	}
	setText(w.summary, w.msg.T("error.summary"))
	setHidden(w.summary, false)
	if haveFirst {
		_, err = first.Call("focus")
	}
	return err
}

// say puts a message in the polite status region.
func (w *widget) say(s string) error { return setText(w.status, s) }

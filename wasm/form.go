//go:build js && wasm

package main

import (
	"strconv"
	"strings"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/wasm/formstate"
)

// form is the report form in the page, bound to the module.
type form struct {
	d       *dom
	cfg     config
	def     *report.Form // the form's definition
	msg     messages
	el      safejs.Value // the <form>
	status  safejs.Value
	summary safejs.Value
	submit  safejs.Value
	rowSeq  int
	langSeq int     // counts language choices; only the last one is applied
	sent    *sealed // the last envelope, reused for an unchanged retry
	prover  *prover
	// keys is closed once recipients or keysErr is set: the hotline's
	// recipients from its verified key statement, or why there are none.
	keys       chan struct{}
	recipients *report.Recipients
	keysErr    error
	fu         followUp
	// reported holds the normalized locations sent from this frame, to
	// flag a second report of the same address during the visit. It lives
	// in memory only, like everything typed.
	reported formstate.Reported
}

// values reads the form's current values.
func (w *form) values() (report.Values, bool, error) {
	ctor, err := safejs.Global().Get("FormData")
	if err != nil {
		return nil, false, err
	}
	fd, err := ctor.New(w.el)
	if err != nil {
		return nil, false, err
	}
	v := report.Values{}
	for _, f := range w.def.Fields {
		all, err := fd.Call("getAll", f.Name)
		if err != nil {
			return nil, false, err
		}
		if v[f.Name], err = stringsOf(all); err != nil {
			return nil, false, err
		}
	}
	contact, err := w.d.byID("rl-contact")
	if err != nil {
		return nil, false, err
	}
	return v, getBool(contact, "open"), nil
}

// trapped reports whether the hidden honeypot field was filled, which a
// person never does.
func (w *form) trapped() bool {
	el, err := w.d.byID("rl-homepage")
	return err == nil && getString(el, "value") != ""
}

// locationInputs returns the location inputs in row order.
func (w *form) locationInputs() ([]safejs.Value, error) {
	return w.queryAll("#locations-list input[name=locations]")
}

func (w *form) queryAll(selector string) ([]safejs.Value, error) {
	nodes, err := w.d.doc.Call("querySelectorAll", selector)
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
func (w *form) addLocation() error {
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
		"dir", "auto", "inputmode", "url", "autocomplete", "off", "spellcheck", "false",
		"maxlength", strconv.Itoa(report.MaxLocationLen),
		"aria-label", w.msg.T("field.locations.row", "n", strconv.Itoa(len(inputs)+1)),
		"data-i18n-aria", "field.locations.row", "data-i18n-args", "n="+strconv.Itoa(len(inputs)+1),
		"aria-describedby", "locations-hint "+id+"-error")
	if err != nil {
		return err
	}
	errP, err := w.d.create("p", "class", "error", "id", id+"-error", "hidden", "")
	if err != nil {
		return err
	}
	remove, err := w.d.create("button", "type", "button", "class", "secondary remove", "data-i18n", "field.locations.remove")
	if err != nil {
		return err
	}
	note(setText(remove, w.msg.T("field.locations.remove")))
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
func (w *form) removeLocation(li safejs.Value) error {
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

// onChange reacts to a committed change: a location to check for repeats
// at once, or an answer that shows or hides questions.
func (w *form) onChange(_ safejs.Value, args []safejs.Value) error {
	if len(args) == 0 {
		return nil
	}
	target, err := args[0].Get("target")
	if err != nil {
		return err
	}
	if getString(target, "name") == "locations" {
		return w.checkLocation(target)
	}
	return w.updateConditions()
}

// onInput keeps the character counters current.
func (w *form) onInput(_ safejs.Value, args []safejs.Value) error {
	if len(args) == 0 {
		return nil
	}
	target, err := args[0].Get("target")
	if err != nil {
		return err
	}
	if getString(target, "tagName") == "TEXTAREA" {
		return w.updateCounter(target)
	}
	return nil
}

// checkLocation marks a location typed twice in this report, or already
// reported from this page, as soon as the reporter leaves the field.
func (w *form) checkLocation(input safejs.Value) error {
	id := getString(input, "id")
	errP, err := w.d.byID(id + "-error")
	if err != nil {
		return err
	}
	value := strings.TrimSpace(getString(input, "value"))
	var above []string
	if value != "" {
		inputs, err := w.locationInputs()
		if err != nil {
			return err
		}
		for _, other := range inputs {
			if getString(other, "id") == id {
				break
			}
			above = append(above, getString(other, "value"))
		}
	}
	code := formstate.LocationProblem(value, above, w.reported)
	if code == "" {
		note(removeAttr(input, "aria-invalid"))
		hideMessage(errP)
		return nil
	}
	note(setAttr(input, "aria-invalid", "true"))
	w.showMessage(errP, code)
	return nil
}

// showMessage shows the message with the key in el, marked so that a
// switch of language translates it too.
func (w *form) showMessage(el safejs.Value, key string) {
	note(setAttr(el, "data-i18n", key))
	note(setText(el, w.msg.T(key)))
	note(setHidden(el, false))
}

// hideMessage empties and hides an element showMessage filled.
func hideMessage(el safejs.Value) {
	note(removeAttr(el, "data-i18n"))
	note(setText(el, ""))
	note(setHidden(el, true))
}

// updateConditions shows the questions and notes whose condition holds
// and hides the others. A hidden question counts as unanswered, so what
// depends on it hides too.
func (w *form) updateConditions() error {
	hidden := formstate.Hidden(w.def, w.valueOf)
	for _, f := range w.def.Fields {
		if f.ShowWhen == nil {
			continue
		}
		box, err := w.d.byID("f-" + f.Name)
		if err != nil {
			return err
		}
		if err := setHidden(box, hidden[f.Name]); err != nil {
			return err
		}
	}
	return nil
}

// valueOf reads a menu's value, or the checked radio button of a group.
func (w *form) valueOf(name string) string {
	el, err := w.d.doc.Call("querySelector", "select[name="+name+"],[name="+name+"]:checked")
	if err != nil || el.IsNull() {
		return ""
	}
	return getString(el, "value")
}

// updateCounters refreshes every character counter.
func (w *form) updateCounters() error {
	areas, err := w.queryAll("textarea")
	if err != nil {
		return err
	}
	for _, a := range areas {
		if err := w.updateCounter(a); err != nil {
			return err
		}
	}
	return nil
}

func (w *form) updateCounter(area safejs.Value) error {
	counter, err := w.d.byID(getString(area, "id") + "-counter")
	if err != nil {
		return nil // a text area without a counter
	}
	value := getString(area, "value")
	return setText(counter, w.msg.T("form.counter",
		"count", strconv.Itoa(len([]rune(value))), "max", getAttr(counter, "data-max")))
}

// clearErrors removes every error mark.
func (w *form) clearErrors() error {
	for _, sel := range []string{"#rl-form [aria-invalid]", "#rl-form .error"} {
		els, err := w.queryAll(sel)
		if err != nil {
			return err
		}
		for _, el := range els {
			if strings.HasSuffix(sel, ".error") {
				hideMessage(el)
			} else {
				note(removeAttr(el, "aria-invalid"))
			}
		}
	}
	hideMessage(w.summary)
	return nil
}

// showErrors marks each field with its message, fills the summary (an
// alert, so it is announced) and focuses the first field in error.
func (w *form) showErrors(errs []report.FieldError, rows []int) error {
	inputs, err := w.locationInputs()
	if err != nil {
		return err
	}
	var first safejs.Value
	haveFirst := false
	for _, fe := range errs {
		inputID, code := fe.Field, "error."+fe.Code
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
			// A radio group has no element with the field's id: mark
			// its first radio.
			radios, qerr := w.queryAll("input[name=" + fe.Field + "]")
			if qerr != nil || len(radios) == 0 {
				consoleError("reportline: " + fe.Error())
				continue
			}
			input = radios[0]
		}
		note(setAttr(input, "aria-invalid", "true"))
		if p, err := w.d.byID(inputID + "-error"); err == nil {
			w.showMessage(p, code)
		}
		if !haveFirst {
			first, haveFirst = input, true
		}
	}
	w.showMessage(w.summary, "error.summary")
	if haveFirst {
		_, err = first.Call("focus")
	}
	return err
}

// say puts a message in the polite status region.
func (w *form) say(s string) error { return setText(w.status, s) }

//go:build js && wasm

package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
)

// TestNoted: the error of a DOM write the work went on without is kept,
// not dropped, and handed over once.
func TestNoted(t *testing.T) {
	takeNoted()
	note(nil)
	if err := takeNoted(); err != nil {
		t.Fatalf("nothing failed, noted %v", err)
	}
	note(setAttr(safejs.Undefined(), "lang", "en"))
	note(setText(safejs.Null(), "text"))
	err := takeNoted()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Fatalf("two failed writes, noted %v", err)
	}
	if err := takeNoted(); err != nil {
		t.Errorf("noted errors handed over twice: %v", err)
	}
}

// TestCallbackReportsNoted: an event handler's noted errors reach the
// console in one line, under the handler's name, when it returns.
func TestCallbackReportsNoted(t *testing.T) {
	console, err := safejs.Global().Get("console")
	if err != nil {
		t.Fatal(err)
	}
	orig, err := console.Get("error")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	record, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			s, _ := args[0].String()
			lines = append(lines, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer record.Release()
	if err := console.Set("error", record.Value()); err != nil {
		t.Fatal(err)
	}
	defer console.Set("error", orig)

	takeNoted()
	f, err := callback("test event", func(safejs.Value, []safejs.Value) error {
		note(setAttr(safejs.Undefined(), "lang", "en"))
		note(setHidden(safejs.Null(), true))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if _, err := f.Value().Invoke(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "reportline: test event: ") {
		t.Fatalf("console lines %q, want one for the event", lines)
	}
	if err := takeNoted(); err != nil {
		t.Errorf("the handler's noted errors stayed behind: %v", err)
	}
}

//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// callback makes a JavaScript function from fn. A panic or an error in fn
// is logged to the console instead of killing the module, so one bad event
// never takes the form down with it; so are the errors fn noted.
func callback(name string, fn func(this safejs.Value, args []safejs.Value) error) (safejs.Func, error) {
	return safejs.FuncOf(func(this safejs.Value, args []safejs.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				consoleError(fmt.Sprintf("reportline: %s: panic: %v", name, r))
			}
			reportNoted(name)
		}()
		if err := fn(this, args); err != nil {
			consoleError(fmt.Sprintf("reportline: %s: %v", name, err))
		}
		return nil
	})
}

// await waits for a JavaScript Promise and returns its value, or its
// rejection as an error. It must not run on the JavaScript event loop's
// goroutine (inside a callback): start a goroutine first.
func await(promise safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1)
	onValue, err := callback("await", func(_ safejs.Value, args []safejs.Value) error {
		v := safejs.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer onValue.Release()
	onError, err := callback("await", func(_ safejs.Value, args []safejs.Value) error {
		msg := "promise rejected"
		if len(args) > 0 {
			if s, err := args[0].Call("toString"); err == nil {
				msg, _ = s.String()
			}
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer onError.Release()
	if _, err := promise.Call("then", onValue.Value(), onError.Value()); err != nil {
		return safejs.Value{}, fmt.Errorf("failed to wait for promise: %w", err)
	}
	r := <-ch
	return r.v, r.err
}

func consoleError(msg string) {
	if c, err := safejs.Global().Get("console"); err == nil {
		c.Call("error", msg)
	}
}

// The errors of DOM writes that an event's work went on without (a text
// or an attribute that could not be set) are noted, not dropped: callback
// reports them together, in one console line, when the event's handler
// returns, and a goroutine an event started reports its own when it ends.
var (
	notedMu sync.Mutex
	noted   []error
)

// note records err, if it is not nil, for the event under way.
func note(err error) {
	if err != nil {
		notedMu.Lock()
		noted = append(noted, err)
		notedMu.Unlock()
	}
}

// takeNoted returns the errors noted since it was last called, joined, or
// nil if there were none.
func takeNoted() error {
	notedMu.Lock()
	defer notedMu.Unlock()
	err := errors.Join(noted...)
	noted = nil
	return err
}

// reportNoted writes the errors noted for the event name to the console.
func reportNoted(name string) {
	if err := takeNoted(); err != nil {
		consoleError(fmt.Sprintf("reportline: %s: %v", name, err))
	}
}

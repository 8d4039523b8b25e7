//go:build js && wasm

package main

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// callback makes a JavaScript function from fn. A panic or an error in fn
// is logged to the console instead of killing the module, so one bad event
// never takes the form down with it.
func callback(name string, fn func(this safejs.Value, args []safejs.Value) error) (safejs.Func, error) {
	return safejs.FuncOf(func(this safejs.Value, args []safejs.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				consoleError(fmt.Sprintf("reportline: %s: panic: %v", name, r))
			}
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

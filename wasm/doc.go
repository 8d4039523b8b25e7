//go:build js && wasm

// Command wasm is the report form's WebAssembly module. It binds to the
// form the relay rendered in the report frame, validates with the shared
// report package, seals the report in the browser with age to the hotline's
// recipients, and sends only the envelope to the relay.
//
// Every call into JavaScript goes through github.com/hack-pad/safejs; the
// one place that needs more (a recovering callback and awaiting a Promise)
// is bridge.go. See docs/form.md.
package main

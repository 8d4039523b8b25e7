// Package e2e holds the end-to-end tests: they build the relay, the hotline
// tools, the partner page and the WebAssembly module, start them as real
// processes on loopback (examples/stack), and file a report the way a
// person does, in headless Chromium: a click on the report button, typing
// into the form in the cross-origin frame, and a click on Send. Then they
// check what reached the hotline's inbox, and that the relay kept and
// logged no plaintext.
//
// The tests run under plain `go test ./...`. They need Debian's Chromium at
// /usr/bin/chromium (or the path in $CHROMIUM); run as root, they install it
// with apt-get when it is missing. Screenshots go to e2e/artifacts/.
package e2e

// Package e2e holds the end-to-end tests: they build the relay, the hotline
// tools, the partner page and the WebAssembly module, start them as real
// processes on loopback (examples/stack), and file a report the way a
// person does, in headless Chromium: a click on the report button, typing
// into the form in the cross-origin frame, and a click on Send. Then they
// check what reached the hotline's inbox, and that the relay kept and
// logged no plaintext.
//
// The other tests hold the form to its promises in the same browser, with
// real mouse and keyboard input: accessibility (axe-core's WCAG 2.2 A and
// AA rules at every step, the keyboard alone, focus held in the dialog,
// errors announced, 360 px and 200 % zoom, reduced motion and forced
// colours), languages, duplicate addresses, a half-filled report that
// survives a close with nothing stored, the partner page's scripts and
// styles kept out, the frame's headers, the site owner's options, and the
// fallbacks without JavaScript or WebAssembly.
//
// The Puppeteer tests drive the form with a second browser driver
// (puppeteer-core from npm, on the same Chromium), through a script that
// knows only the form's visible labels and roles (testdata/puppeteer.mjs):
// a report filed as served and with the module arriving late, and the
// choices a reporter makes before the module has arrived.
//
// The tests run under plain `go test ./...`. They need Debian's Chromium at
// /usr/bin/chromium (or the path in $CHROMIUM); run as root, they install it
// with apt-get when it is missing. The accessibility tests need axe-core
// from npm, and the Puppeteer test puppeteer-core and age-encryption: run
// `npm ci` in the repository's root once (.ci/run does).
// Screenshots go to e2e/artifacts/.
package e2e

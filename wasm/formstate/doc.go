// Package formstate holds the report form's decisions that need no
// browser: when sending again may help, which locations repeat one typed
// above or one already reported from this frame, which questions show,
// the checks before a report is sealed, and the arguments of a translated
// text. The module (package main, for
// js/wasm) reads the page, asks this package, and writes the answer back
// through safejs; the decisions are tested natively, without a browser.
package formstate

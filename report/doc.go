// Package report implements the hotline report format v1 and its envelope, as
// specified in docs/report-format.md.
//
// A report is a JSON document (see [Report]) that the reporter's browser
// validates against the one form definition ([DefaultForm]), pads to a size
// bucket and seals with age (filippo.io/age) to the hotline's recipients. The
// relay only ever checks that a body is a well-formed envelope for the
// hotline's recipient kind ([CheckEnvelope]); only the hotline opens it
// ([Open]).
//
// The package builds for the host and for js/wasm: the widget in the browser
// and the hotline's tools validate with the same code.
package report

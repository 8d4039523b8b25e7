// Package interop holds tests that check the project's files against
// implementations that are not its own: report envelopes against
// age-encryption (typage, the TypeScript implementation of age by age's
// author, from npm), run in Node on real key files made by `hotline
// keygen`. docs/report-format.md says what is checked and why the relay
// accepts fewer age files than age does.
//
// The tests need Node and `npm ci` run once in the repository's root; CI
// runs it, and there a missing node_modules fails the tests.
package interop

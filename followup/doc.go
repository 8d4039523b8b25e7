// Package followup implements the anonymous follow-up channel specified in
// docs/follow-up.md: a receipt code that is the reporter's only key, the
// values derived from it (a mailbox id, a post-quantum HPKE key for replies, a
// request key), the hotline's signed replies, and the hotline's signed
// posts to the relay's mailbox.
//
// The files without cryptography beyond what the report form already links (receipt,
// derivation, reply and post texts, sealing and opening) build for the
// browser module too; signing and verifying with Ed25519 are in sign.go,
// which the module does not build: the browser verifies with WebCrypto.
package followup

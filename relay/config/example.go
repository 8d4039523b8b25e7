package config

import _ "embed"

// Example is the example configuration, examples/relay.example.toml (a
// test keeps the two equal). It differs from a working file only in its
// placeholder recipient, [ExampleRecipient]; `relay init` writes it with a
// real one.
//
//go:embed example.toml
var Example []byte

// ExampleRecipient is the placeholder in [Example]'s recipients.
const ExampleRecipient = "age1pq1..."

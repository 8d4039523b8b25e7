// Package snippet holds the files a partner page and the report frame load:
// the embed loader (embed.js), the frame's page template (frame.html), its
// style sheet and the script that starts the WebAssembly module. The relay
// serves them; see docs/site-owners.md and docs/relay-api.md.
package snippet

import "embed"

// Files are the loader, the frame's template, style sheet and boot script.
//
//go:embed embed.js frame.html frame.css boot.js
var Files embed.FS

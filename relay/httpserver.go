package relay

import (
	"log/slog"
	"net/http"
	"time"
)

// MaxHeaderBytes is the most request line and header bytes the relay
// takes; a larger request is answered 431 with a problem. A browser's
// request to the relay carries well under 4 KB.
const MaxHeaderBytes = 16 << 10

// hardMaxHeaderBytes is where net/http itself stops reading headers, and
// answers 431 in plain text; between MaxHeaderBytes and this, the relay
// answers with a problem.
const hardMaxHeaderBytes = 64 << 10

// Timeouts are the HTTP server's time limits.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included.
	Read time.Duration
	// Write bounds writing a response.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for a request.
	Idle time.Duration
}

// DefaultTimeouts are the relay's production limits.
var DefaultTimeouts = Timeouts{
	// Slow-header clients hold a connection for nothing: cut them early.
	ReadHeader: 5 * time.Second,
	// A report body is at most ~100 KB; a minute is ample on a poor
	// mobile link, and bounds slow-body attacks.
	Read: time.Minute,
	// The largest response is the module, about 900 KB compressed.
	Write: 2 * time.Minute,
	// Idle keep-alive connections cost memory; browsers reconnect.
	Idle: 2 * time.Minute,
}

// NewHTTPServer returns the http.Server that serves h (the relay's
// [Server]) with the given timeouts, the header limit, and an error log
// that removes client addresses. The command uses [DefaultTimeouts];
// tests shorten them. The caller sets TLSConfig, if any, and serves.
func NewHTTPServer(h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    hardMaxHeaderBytes,
		ErrorLog:          ErrorLog(log),
		// "OPTIONS *" reaches the handler, which refuses it with a
		// problem, instead of net/http's empty 200.
		DisableGeneralOptionsHandler: true,
	}
}

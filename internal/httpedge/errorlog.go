package httpedge

import (
	"context"
	"log"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/reportline/reportline/internal/quietlog"
)

// addrPattern matches IPv4 and bracketed or bare IPv6 addresses, with an
// optional port.
var addrPattern = regexp.MustCompile(`\[[0-9A-Fa-f:.%a-z]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}`)

// RedactAddrs replaces every IP address (and port) in s with "[addr]".
func RedactAddrs(s string) string { return addrPattern.ReplaceAllString(s, "[addr]") }

// ErrorLog returns a *log.Logger for http.Server.ErrorLog. net/http writes
// lines like "http: TLS handshake error from 203.0.113.9:5123" there; this
// logger removes every address before the line reaches the structured log.
// Anyone can make net/http write such lines at will (a failed handshake,
// a semicolon in a query), so one a second is let through, the next
// saying how many were left out (package quietlog).
func ErrorLog(l *slog.Logger) *log.Logger { return errorLog(l, time.Now) }

// errorLog is ErrorLog with the clock the limit goes by.
func errorLog(l *slog.Logger, now func() time.Time) *log.Logger {
	return log.New(&redactor{l: l, now: now}, "", 0)
}

type redactor struct {
	l     *slog.Logger
	now   func() time.Time
	quiet quietlog.Limiter
}

func (r *redactor) Write(p []byte) (int, error) {
	if ok, skipped := r.quiet.Allow("http server", r.now()); ok {
		r.l.Log(context.Background(), slog.LevelWarn, "http server",
			quietlog.Args(skipped, "detail", RedactAddrs(strings.TrimSpace(string(p))))...)
	}
	return len(p), nil
}

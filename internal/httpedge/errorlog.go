package httpedge

import (
	"context"
	"log"
	"log/slog"
	"regexp"
	"strings"
)

// addrPattern matches IPv4 and bracketed or bare IPv6 addresses, with an
// optional port.
var addrPattern = regexp.MustCompile(`\[[0-9A-Fa-f:.%a-z]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}`)

// RedactAddrs replaces every IP address (and port) in s with "[addr]".
func RedactAddrs(s string) string { return addrPattern.ReplaceAllString(s, "[addr]") }

// ErrorLog returns a *log.Logger for http.Server.ErrorLog. net/http writes
// lines like "http: TLS handshake error from 203.0.113.9:5123" there; this
// logger removes every address before the line reaches the structured log.
func ErrorLog(l *slog.Logger) *log.Logger {
	return log.New(redactor{l}, "", 0)
}

type redactor struct{ l *slog.Logger }

func (r redactor) Write(p []byte) (int, error) {
	r.l.Log(context.Background(), slog.LevelWarn, "http server", "detail", RedactAddrs(strings.TrimSpace(string(p))))
	return len(p), nil
}

package relay

import (
	"log"
	"log/slog"

	"github.com/reportline/reportline/internal/httpedge"
)

// RedactAddrs replaces every IP address (and port) in s with "[addr]".
func RedactAddrs(s string) string { return httpedge.RedactAddrs(s) }

// ErrorLog returns a *log.Logger for http.Server.ErrorLog that removes
// every client address from net/http's lines (httpedge.ErrorLog).
func ErrorLog(l *slog.Logger) *log.Logger { return httpedge.ErrorLog(l) }

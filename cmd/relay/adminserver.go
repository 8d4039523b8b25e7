package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
)

// The admin server. The admin socket lets `relay spool` work while the
// relay runs: bbolt locks the spool file, so a second process cannot open
// it. It is a Unix socket, mode 0600, so only the relay's user (and root)
// can use it; it answers a small JSON API over HTTP and never sends a
// report body. Its client is in adminclient.go; what both share, and the
// operations on a stopped relay's spool file, are in admin.go.

// listenUnix listens on a Unix socket at path, removing a stale socket
// left by a crash (but nothing that is not a socket), and makes it
// readable by the owner only.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is in use: is another relay running?", path)
		}
		os.Remove(path)
	}
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// adminHandler serves the admin API on the running relay's spool.
func adminHandler(sp store.Store, fwd *forward.Forwarder, log *slog.Logger) http.Handler {
	ops := fileOps{sp: sp, notify: fwd.Notify}
	reply := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			status := http.StatusInternalServerError
			switch {
			case errors.Is(err, spool.ErrNotFound):
				status = http.StatusNotFound
			case errors.Is(err, errNotDead), errors.Is(err, spool.ErrInvalid), errors.Is(err, spool.ErrNotCorrupt):
				status = http.StatusConflict
			}
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /spool", func(w http.ResponseWriter, r *http.Request) {
		list, err := ops.List()
		reply(w, list, err)
	})
	mux.HandleFunc("POST /spool/retry", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("all-dead") == "1" {
			n, err := ops.RetryAllDead()
			log.Info("operator retried every dead report", "count", n)
			reply(w, map[string]int{"retried": n}, err)
			return
		}
		v, err := ops.Retry(r.URL.Query().Get("id"))
		if err == nil {
			log.Info("operator retried a report", "report", v.ID)
		}
		reply(w, v, err)
	})
	mux.HandleFunc("POST /spool/compact", func(w http.ResponseWriter, r *http.Request) {
		c, err := ops.Compact()
		if err == nil {
			log.Info("operator compacted the spool", "before", c.Before, "after", c.After)
		}
		reply(w, c, err)
	})
	mux.HandleFunc("POST /spool/purge", func(w http.ResponseWriter, r *http.Request) {
		v, err := ops.Purge(r.URL.Query().Get("id"))
		switch {
		case err != nil:
		case v.Corrupt != nil:
			log.Warn("operator purged a corrupt record", "report", v.ID, "index_keys", v.Corrupt.IndexKeys,
				"bodies", v.Corrupt.Bodies, "body_left", v.Corrupt.BodyLeft)
		default:
			log.Warn("operator purged a dead report", "report", v.ID)
		}
		reply(w, v, err)
	})
	return mux
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/spool"
)

// The admin socket lets `relay spool` work while the relay runs: bbolt
// locks the spool file, so a second process cannot open it. It is a Unix
// socket, mode 0600, so only the relay's user (and root) can use it; it
// answers a small JSON API over HTTP and never sends a report body.

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

// entryView is what `relay spool ls` shows of a report: never its body.
type entryView struct {
	ID          string    `json:"id"`
	State       string    `json:"state"` // "pending" or "dead"
	Hotline     string    `json:"hotline"`
	Site        string    `json:"site"`
	Received    time.Time `json:"received"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

func view(e spool.Entry) entryView {
	v := entryView{ID: e.ID, State: "pending", Hotline: e.Hotline, Site: e.Site, Received: e.Received,
		Attempts: e.Attempts, NextAttempt: e.NextAttempt, LastError: e.LastError}
	if e.Dead {
		v.State, v.NextAttempt = "dead", time.Time{}
	}
	return v
}

// spoolOps are the operator's actions on the spool, done either on the
// file (relay stopped) or through the admin socket (relay running).
type spoolOps interface {
	List() ([]entryView, error)
	// Retry makes a pending report due now, or revives a dead one.
	Retry(id string) (entryView, error)
	RetryAllDead() (int, error)
	Purge(id string) (entryView, error)
	// Compact gives the disk back that a drained backlog left in the file.
	Compact() (compacted, error)
	Close() error
}

// compacted is the spool file's size before and after a compaction.
type compacted struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
}

// errNotDead means purge was asked for a report that is pending.
var errNotDead = errors.New("report is pending, not dead: only dead reports can be purged")

// fileOps acts on the spool file directly.
type fileOps struct {
	sp     *spool.Spool
	notify func()
}

func (o fileOps) Close() error { return o.sp.Close() }

func (o fileOps) List() ([]entryView, error) {
	pending, err := o.sp.Due(time.Unix(1<<62, 0), 0)
	if err != nil {
		return nil, err
	}
	dead, err := o.sp.Dead()
	if err != nil {
		return nil, err
	}
	out := make([]entryView, 0, len(pending)+len(dead))
	for _, e := range append(pending, dead...) {
		out = append(out, view(e))
	}
	return out, nil
}

func (o fileOps) Retry(id string) (entryView, error) {
	e, err := o.sp.Get(id)
	if err != nil {
		return entryView{}, err
	}
	if e.Dead {
		err = o.sp.Revive(id, time.Now())
	} else {
		err = o.sp.Reschedule(id, time.Now(), e.LastError)
	}
	if err != nil {
		return entryView{}, err
	}
	o.notify()
	e, err = o.sp.Get(id)
	return view(e), err
}

func (o fileOps) RetryAllDead() (int, error) {
	dead, err := o.sp.Dead()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range dead {
		if err := o.sp.Revive(e.ID, time.Now()); err != nil {
			return n, err
		}
		n++
	}
	o.notify()
	return n, nil
}

func (o fileOps) Purge(id string) (entryView, error) {
	e, err := o.sp.Get(id)
	if err != nil {
		return entryView{}, err
	}
	if !e.Dead {
		return view(e), errNotDead
	}
	return view(e), o.sp.Purge(id)
}

func (o fileOps) Compact() (compacted, error) {
	before, after, err := o.sp.Compact()
	return compacted{before, after}, err
}

// adminHandler serves the admin API on the running relay's spool.
func adminHandler(sp *spool.Spool, fwd *forward.Forwarder, log *slog.Logger) http.Handler {
	ops := fileOps{sp: sp, notify: fwd.Notify}
	reply := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			status := http.StatusInternalServerError
			switch {
			case errors.Is(err, spool.ErrNotFound):
				status = http.StatusNotFound
			case errors.Is(err, errNotDead), errors.Is(err, spool.ErrInvalid):
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
		if err == nil {
			log.Warn("operator purged a dead report", "report", v.ID)
		}
		reply(w, v, err)
	})
	return mux
}

// socketOps acts through a running relay's admin socket.
type socketOps struct {
	c *http.Client
}

func dialAdmin(path string) socketOps {
	return socketOps{c: &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}},
	}}
}

func (o socketOps) Close() error { o.c.CloseIdleConnections(); return nil }

func (o socketOps) do(method, path string, q url.Values, out any) error {
	u := "http://relay" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(method, u, nil)
	resp, err := o.c.Do(req)
	if err != nil {
		return fmt.Errorf("failed to reach the relay's admin socket: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(b, &e)
		switch resp.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s", spool.ErrNotFound, e.Error)
		case http.StatusConflict:
			if e.Error == errNotDead.Error() {
				return errNotDead
			}
		}
		return fmt.Errorf("relay answered %s: %s", resp.Status, e.Error)
	}
	return json.Unmarshal(b, out)
}

func (o socketOps) List() ([]entryView, error) {
	var out []entryView
	return out, o.do("GET", "/spool", nil, &out)
}

func (o socketOps) Retry(id string) (entryView, error) {
	var v entryView
	return v, o.do("POST", "/spool/retry", url.Values{"id": {id}}, &v)
}

func (o socketOps) RetryAllDead() (int, error) {
	var v struct{ Retried int }
	err := o.do("POST", "/spool/retry", url.Values{"all-dead": {"1"}}, &v)
	return v.Retried, err
}

func (o socketOps) Purge(id string) (entryView, error) {
	var v entryView
	return v, o.do("POST", "/spool/purge", url.Values{"id": {id}}, &v)
}

func (o socketOps) Compact() (compacted, error) {
	var c compacted
	return c, o.do("POST", "/spool/compact", nil, &c)
}

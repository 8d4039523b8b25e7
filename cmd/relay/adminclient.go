package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/reportline/reportline/relay/spool"
)

// The admin client: `relay spool` on a running relay, through the admin
// socket that adminserver.go serves.

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

func (o socketOps) Purge(id string) (purged, error) {
	var v purged
	return v, o.do("POST", "/spool/purge", url.Values{"id": {id}}, &v)
}

func (o socketOps) Compact() (compacted, error) {
	var c compacted
	return c, o.do("POST", "/spool/compact", nil, &c)
}

package httpedge_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/httpedge"
	"github.com/reportline/reportline/internal/rawhttp"
)

// closedByServer reports whether c was closed by the server: a read gets
// EOF or a reset. The deadline only bounds a server that keeps c open.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestConnLimit holds a server at its bound with connections that send
// nothing: a new client is served, and the oldest idle connection is
// closed to make room. With every connection busy, a new one is closed
// unanswered; once they end, every goroutine ends too.
func TestConnLimit(t *testing.T) {
	lim := &httpedge.ConnLimit{Max: 4}
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) { <-release })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ConnState: lim.ConnState, ReadHeaderTimeout: time.Minute}
	go srv.Serve(lim.Listener(ln))
	defer srv.Close()
	addr := ln.Addr().String()
	ok := rawhttp.Request("GET", "/ok")
	if resp, _ := rawhttp.Send(t, addr, ok); resp.StatusCode != 200 {
		t.Fatalf("GET /ok: %d", resp.StatusCode)
	}
	baseline := runtime.NumGoroutine()

	// Four connections that send nothing, or half a request.
	var idle []net.Conn
	dialIdle := func(half bool) {
		c, err := rawhttp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if half {
			io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: x\r\n")
		}
		idle = append(idle, c)
		waitOpen(t, lim, len(idle)-int(lim.Evicted()))
	}
	for i := range 4 {
		dialIdle(i == 1)
	}
	// Each client at the bound is served, and the oldest idle connection
	// is closed for it; another takes the freed place before the next.
	for i := range 3 {
		if resp, body := rawhttp.Send(t, addr, ok); resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("a client at the bound: %d %q", resp.StatusCode, body)
		}
		if !closedByServer(t, idle[i]) {
			t.Fatalf("idle connection %d was not closed to make room", i)
		}
		if lim.Evicted() != uint64(i+1) {
			t.Fatalf("evicted %d, want %d", lim.Evicted(), i+1)
		}
		waitOpen(t, lim, 3)
		dialIdle(false)
	}
	for _, c := range idle {
		c.Close()
	}
	waitOpen(t, lim, 0)

	var busy []net.Conn
	for range 4 {
		c, err := rawhttp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
		busy = append(busy, c)
	}
	waitBusy(t, lim, 4)
	c, err := rawhttp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, ok)
	if !closedByServer(t, c) {
		t.Fatal("a connection past the bound, with every connection busy, was not closed")
	}
	c.Close()
	if lim.Refused() != 1 {
		t.Errorf("refused %d, want 1", lim.Refused())
	}
	close(release)
	for _, c := range busy {
		c.Close()
	}
	rawhttp.WaitGoroutines(t, baseline)
	if resp, _ := rawhttp.Send(t, addr, ok); resp.StatusCode != 200 {
		t.Fatalf("after the busy connections ended: %d", resp.StatusCode)
	}
}

// waitOpen waits until lim holds n connections.
func waitOpen(t *testing.T, lim *httpedge.ConnLimit, n int) {
	t.Helper()
	waitFor(t, func() bool { return lim.Open() == n }, "connections open")
}

// waitBusy waits until n connections of lim have a request under way.
func waitBusy(t *testing.T, lim *httpedge.ConnLimit, n int) {
	t.Helper()
	waitFor(t, func() bool { return lim.Busy() == n }, "connections busy")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within a minute", what)
		}
		<-tick.C
	}
}

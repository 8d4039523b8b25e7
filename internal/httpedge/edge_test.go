package httpedge

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/rawhttp"
)

func TestCanonical(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/healthz": true, "/a/b.js": true, "/v1/sites/s1/": true, "/w/s%": true,
		"": false, "healthz": false, "//healthz": false, "/./healthz": false, "/a/../b": false,
		"/a/..": false, "/a/.": false, "/a//b": false, "/v1/sites//challenge": false, "/..": false,
	} {
		if got := Canonical(p); got != want {
			t.Errorf("Canonical(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		target string
		hdr    []string
		want   string // problem type name, "" for none
	}{
		{"/healthz", nil, ""},
		{"/a/%2e%2e/go.mod", nil, "bad-path"},
		{"/a/..%2fgo.mod", nil, "bad-path"},
		{"/x", []string{"Content-Encoding", "gzip"}, "bad-content-encoding"},
		{"/x", []string{"Content-Encoding", "identity"}, ""},
		{"/x", []string{"X-Pad", strings.Repeat("p", 2000)}, "headers-too-large"},
	} {
		r := httptest.NewRequest("POST", tt.target, nil)
		for i := 0; i+1 < len(tt.hdr); i += 2 {
			r.Header.Set(tt.hdr[i], tt.hdr[i+1])
		}
		p := Check(httptest.NewRecorder(), r, 1024)
		switch {
		case tt.want == "" && p != nil:
			t.Errorf("%s %v: %v", tt.target, tt.hdr, p)
		case tt.want != "" && (p == nil || p.Name() != tt.want):
			t.Errorf("%s %v: %v, want %s", tt.target, tt.hdr, p, tt.want)
		}
	}
}

// TestGuardRefusalDoesNotWaitForTheBody: a refusal of a request that
// announced a body and never sent it is answered at once, and closes the
// connection, rather than after the read timeout (a minute here; the
// answer must come within rawhttp.Send's 15 s).
func TestGuardRefusalDoesNotWaitForTheBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", NotFound("this server"))
	srv := &http.Server{Handler: Guard(mux, 1<<10), ReadTimeout: time.Minute}
	go srv.Serve(ln)
	defer srv.Close()
	resp, body := rawhttp.Send(t, ln.Addr().String(), "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	rawhttp.ExpectProblem(t, resp, body, 404, "not-found")
	if !resp.Close {
		t.Error("the refusal left the connection open for the rest of the body")
	}
}

// TestGuardRefusalClosesAtOnce: after refusing a request whose body was
// announced and not sent, the server closes the connection, and its
// goroutine ends, at once. net/http would otherwise first read the rest
// of the body (up to 256 KB) to end the request cleanly, and hold the
// connection, busy, for the whole read timeout (ten minutes here; the test
// waits one): a sender without a key or a proof of work could keep every
// connection a server takes busy with requests it refuses.
func TestGuardRefusalClosesAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", NotFound("this server"))
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	srv := &http.Server{Handler: Guard(mux, 1<<10), ReadTimeout: 10 * time.Minute}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()
	if resp, _ := rawhttp.Send(t, addr, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); resp.StatusCode != 200 {
		t.Fatalf("GET /ok: %d", resp.StatusCode)
	}
	baseline := runtime.NumGoroutine()
	for name, req := range map[string]string{
		"body never sent":             "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
		"half the body sent":          "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 500),
		"chunked, never ended":        "POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n",
		"100-continue, never sent":    "POST /nope HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n",
		"a bad path, body never sent": "POST /a/../nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := rawhttp.Dial(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(time.Minute))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("status %d, want a refusal", resp.StatusCode)
			}
			if n, err := br.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("after the refusal the connection stayed open: read %d, %v; want it closed at once", n, err)
			}
		})
	}
	rawhttp.WaitGoroutines(t, baseline)
}

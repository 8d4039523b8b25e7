package httpedge

import (
	"net"
	"net/http"
	"net/http/httptest"
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

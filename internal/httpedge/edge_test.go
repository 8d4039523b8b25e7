package httpedge

import (
	"net/http/httptest"
	"strings"
	"testing"
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

package main

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzServers sends the intake's and serve-frame's handlers, as `hotline
// intake` and `hotline serve-frame` serve them, whatever request net/http
// would pass them (seeded from testdata/requests): neither may panic or
// answer a 5xx other than 503, every refusal is a problem, nothing
// reaches the inbox without a signature, and no file outside the frame's
// folder is ever served.
func FuzzServers(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "requests/*.http") {
		f.Add(b)
	}
	dir := f.TempDir()
	frameDir := filepath.Join(dir, "frame")
	os.MkdirAll(filepath.Join(frameDir, "a"), 0o755)
	const secret = "AGE-SECRET-KEY-OUTSIDE"
	os.WriteFile(filepath.Join(dir, "identity.txt"), []byte(secret), 0o600)
	os.WriteFile(filepath.Join(frameDir, "index.html"), []byte("<!doctype html>"), 0o644)
	os.WriteFile(filepath.Join(frameDir, "statement.txt"), []byte("statement"), 0o644)
	h, err := frameHandler(frameDir, "https://partner.example")
	if err != nil {
		f.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	frame, _ := frameServer(h, ln, 16)
	ln.Close()
	in := startIntake(f, false)
	f.Fuzz(func(t *testing.T, raw []byte) {
		for name, handler := range map[string]http.Handler{"intake": in.srv.Handler, "serve-frame": frame.Handler} {
			r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				return // net/http refuses it before any handler
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, r)
			switch {
			case rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable:
				t.Fatalf("%s: %q: %d %s", name, raw, rec.Code, rec.Body)
			case rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json":
				t.Fatalf("%s: %q: %d without a problem: %.200s", name, raw, rec.Code, rec.Body)
			case bytes.Contains(rec.Body.Bytes(), []byte(secret)):
				t.Fatalf("%s: %q served a file outside its folder", name, raw)
			}
		}
		if entries, _ := os.ReadDir(in.inbox); len(entries) != 0 {
			t.Fatalf("%q put %d files in the inbox", raw, len(entries))
		}
	})
}

package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/statement"
	"github.com/reportline/reportline/web/assets"
)

// hotline publish writes the frame's folder from a statement the hotline
// signed, and says what the relay and the partners need; serve-frame
// serves it with frame-ancestors on the pages, the hashed files immutable
// and compressed, and nothing else.
func TestPublishAndServeFrame(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "signing.key")
	out, _, code := run(t, "keygen", "-sign", "-o", keyFile)
	vk := strings.TrimSpace(out)
	recipient, _, _ := run(t, "keygen", "-o", filepath.Join(dir, "identity.txt"))
	stFile := filepath.Join(dir, "statement")
	if _, errOut, code2 := run(t, "sign", "-key", keyFile, "-hotline", "de-hotline", "-serial", "2",
		"-valid-from", time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "-o", stFile, strings.TrimSpace(recipient)); code != 0 || code2 != 0 {
		t.Fatalf("keygen, sign: %d %d %s", code, code2, errOut)
	}
	built := filepath.Join(dir, "assets")
	os.MkdirAll(built, 0o755)
	wasm := []byte("\x00asm\x01\x00\x00\x00 the module")
	os.WriteFile(filepath.Join(built, "widget.wasm"), wasm, 0o644)
	os.WriteFile(filepath.Join(built, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)

	frameDir := filepath.Join(dir, "frame")
	args := []string{"publish", "-relay", "https://relay.example", "-statement", stFile, "-statement-key", vk, "-assets", built, frameDir}
	out, errOut, code := run(t, args...)
	if code != 0 || !strings.Contains(out, "frame_origin") || !strings.Contains(out, "data-frame") {
		t.Fatalf("publish: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Again into the same folder: refused, with a hint.
	if _, errOut, code := run(t, args...); code == 0 || !strings.Contains(errOut, "hotline: hint: publish never overwrites") {
		t.Errorf("publish into a folder that exists: code %d, stderr %q", code, errOut)
	}
	// With another hotline's key: refused, nothing written.
	other, _ := statement.GenerateKey()
	bad := filepath.Join(dir, "bad")
	if _, errOut, code := run(t, "publish", "-relay", "https://relay.example", "-statement", stFile, "-statement-key", other.VerificationKey(),
		"-assets", built, bad); code == 0 || !strings.Contains(errOut, "signature") {
		t.Errorf("publish with another key: code %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a refused publish wrote its folder")
	}

	h, err := frameHandler(frameDir, "https://partner.example")
	if err != nil {
		t.Fatal(err)
	}
	get := func(method, path, enc string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, p := range []string{"/", "/index.html", "/de.html"} {
		rec := get("GET", p+"?s=news&o=https://partner.example", "")
		hd := rec.Header()
		if rec.Code != 200 || hd.Get("Content-Security-Policy") != "frame-ancestors https://partner.example" ||
			hd.Get("Cross-Origin-Opener-Policy") != "same-origin" || !strings.Contains(rec.Body.String(), `id="rl-config"`) {
			t.Errorf("GET %s: %d %v", p, rec.Code, hd)
		}
	}
	module := assets.HashedPath("widget.wasm", wasm)
	rec := get("GET", module, "br")
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != assets.Immutable || rec.Header().Get("Content-Encoding") != "br" ||
		rec.Header().Get("Content-Type") != "application/wasm" || rec.Header().Get("Content-Security-Policy") != "" {
		t.Errorf("GET %s: %d %v", module, rec.Code, rec.Header())
	}
	if rec := get("GET", "/statement.txt", ""); rec.Code != 200 {
		t.Errorf("GET /statement.txt: %d", rec.Code)
	}
	if rec := get("GET", "/../identity.txt", ""); rec.Code != 404 {
		t.Errorf("GET outside the folder: %d", rec.Code)
	}
	if rec := get("POST", "/", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}
	if _, err := frameHandler(dir, "*"); err == nil {
		t.Error("serve-frame served a folder publish did not write")
	}
	// An address another program holds: refused, naming -listen.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, errOut, code := run(t, "serve-frame", "-listen", ln.Addr().String(), "-frame-ancestors", "https://partner.example", frameDir); code == 0 ||
		!strings.Contains(errOut, "-listen") || !strings.Contains(errOut, "another") {
		t.Errorf("serve-frame on a taken address: code %d, stderr %q", code, errOut)
	}
}

package relay

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/wasm/formstate"
)

// /readyz answers 503 while the disk cannot take a report, and ready again
// once it can, without a restart. The disk is a small tmpfs filled for
// real, which needs root.
func TestReadyOnFullDisk(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2097152,mode=0700"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	sp, err := spool.Open(filepath.Join(dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	assets := t.TempDir()
	os.WriteFile(filepath.Join(assets, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(assets, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	a, err := LoadAssets(assets)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(f.cfg, sp, a, slog.New(slog.DiscardHandler), func() {})
	f.srv = srv
	ready := func() int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("readyz with room: %d", code)
	}
	// Fill the rest of the disk.
	ballast, err := os.Create(filepath.Join(dir, "ballast"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{1}, 64<<10)
	for i := 0; ; i++ {
		if _, err := ballast.Write(chunk); err != nil {
			break
		}
		if i > 100 {
			t.Fatal("the disk never filled")
		}
	}
	ballast.Close()
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("readyz on a full disk: %d, want 503", code)
	}
	_, body := f.sealed(t)
	rec := post(srv, "/v1/sites/s1/reports/4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", body, HeaderProof, f.proof(t, "s1"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a report on a full disk: %d, want 503: %s", rec.Code, rec.Body)
	}
	os.Remove(ballast.Name())
	if code := ready(); code != http.StatusOK {
		t.Errorf("readyz once there is room again: %d, want 200", code)
	}
}

// TestStoreUnavailableIsRetriedByTheForm: a report the store cannot take
// (a full disk, a NATS cluster electing its leaders) is answered 503
// store-unavailable with a Retry-After short enough for the form to wait
// and send again by itself, once, instead of telling the reporter at once.
func TestStoreUnavailableIsRetriedByTheForm(t *testing.T) {
	f := newFixture(t)
	id, body := f.sealed(t)
	proof := f.proof(t, "s1")
	f.sp.Close() // every write fails from now on
	rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, proof)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "store-unavailable") {
		t.Fatalf("a report the store cannot take: %d %s, want 503 store-unavailable", rec.Code, rec.Body)
	}
	ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Fatalf("Retry-After %q, want a number of seconds", rec.Header().Get("Retry-After"))
	}
	var p struct{ Type string }
	json.Unmarshal(rec.Body.Bytes(), &p)
	if wait := formstate.Retry(rec.Code, p.Type, rec.Header().Get("Retry-After")); wait <= 0 {
		t.Errorf("Retry-After %d s: the form does not wait for more than %d s, so it would not send again", ra, formstate.MaxRetryAfter)
	}
}

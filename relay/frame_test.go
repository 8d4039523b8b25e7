package relay

import (
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestFrameErrorForPeople(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest("GET", "/w/s1?o=https://evil.example", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 403 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "https://evil.example") || !strings.Contains(body, "<h1>") {
		t.Fatalf("status %d, %q:\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
}

func TestFramePageCompressed(t *testing.T) {
	f := newFixture(t)
	for _, enc := range []string{"br", "gzip"} {
		req := httptest.NewRequest("GET", "/w/s1?o=https://partner.example", nil)
		req.Header.Set("Accept-Encoding", enc)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		var plain []byte
		var err error
		switch enc {
		case "br":
			plain, err = io.ReadAll(brotli.NewReader(rec.Body))
		case "gzip":
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(rec.Body); err == nil {
				plain, err = io.ReadAll(zr)
			}
		}
		if rec.Code != 200 || rec.Header().Get("Content-Encoding") != enc || err != nil || !strings.Contains(string(plain), `id="rl-form"`) {
			t.Errorf("%s: status %d, encoding %q, %v", enc, rec.Code, rec.Header().Get("Content-Encoding"), err)
		}
	}
}

// TestRemovalServices: the under-18 section offers Take It Down on every
// hotline's form, and Report Remove only where the hotline lists it in
// removal_services.
func TestRemovalServices(t *testing.T) {
	f := newFixture(t)
	page := func() string {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/w/s1?o=https://partner.example", nil))
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		return rec.Body.String()
	}
	const takeItDown, reportRemove = "https://takeitdown.ncmec.org", "https://www.childline.org.uk/remove"
	if p := page(); !strings.Contains(p, takeItDown) || strings.Contains(p, reportRemove) || strings.Contains(p, `data-i18n="under18.report_remove"`) {
		t.Errorf("without removal_services, the page must offer Take It Down only")
	}
	f.cfg.Hotline("h1").RemovalServices = []string{"report_remove"}
	if p := page(); !strings.Contains(p, takeItDown) || !strings.Contains(p, reportRemove) || !strings.Contains(p, `data-i18n="under18.report_remove"`) {
		t.Errorf("with removal_services = [\"report_remove\"], the page must offer Take It Down and Report Remove")
	}
}

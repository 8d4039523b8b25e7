package relay

import (
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestPickLocale(t *testing.T) {
	tests := []struct {
		tag     string
		hotline []string
		want    string
	}{
		{"de-DE,en", nil, "de"},
		{"fr-CA", nil, "fr"},
		{"AR", nil, "ar"},
		{"xx,uk-UA", nil, "uk"},
		{"ja", []string{"nl", "en"}, "nl"},
		{"", []string{"pl"}, "pl"},
		{"ja", nil, "en"},
		{"", nil, "en"},
		// Portuguese: a Brazilian browser gets Brazilian Portuguese, any
		// other Portuguese the European.
		{"pt-BR,pt,en", nil, "pt-BR"},
		{"pt-br", nil, "pt-BR"},
		{"pt-PT,pt", nil, "pt"},
		{"pt", nil, "pt"},
		{"pt-AO", nil, "pt"},
		{"ja", []string{"pt-BR"}, "pt-BR"},
		{"en-GB;q=0.8", nil, "en"},
	}
	for _, tt := range tests {
		if got := pickLocale(tt.tag, tt.hotline); got != tt.want {
			t.Errorf("pickLocale(%q, %v) = %q, want %q", tt.tag, tt.hotline, got, tt.want)
		}
	}
}

// TestMatchLocaleRegions: a catalogue for a group of countries, such as
// Latin American Spanish (es-419), is chosen for a browser in one of them.
func TestMatchLocaleRegions(t *testing.T) {
	have := []string{"en", "es", "es-419", "pt", "pt-BR"}
	tests := []struct{ tag, want string }{
		{"es-MX", "es-419"},
		{"es-AR,es", "es-419"},
		{"es-419", "es-419"},
		{"es-ES", "es"},
		{"es", "es"},
		{"es-US", "es"}, // the United States are not in Latin America (419)
		{"pt-BR", "pt-BR"},
		{"pt-MZ", "pt"},
		{"de", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := matchLocale(strings.Split(tt.tag, ","), have); got != tt.want {
			t.Errorf("matchLocale(%q) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}

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

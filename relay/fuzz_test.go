package relay

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/fuzzseed"
)

// FuzzRequests sends the relay's handler whatever request net/http would
// pass it (seeded with one of each route's, in testdata/requests): it must
// never panic, answer a 5xx other than 503, or refuse without a problem
// (the frame's refusals may be a page, for a browser that asks for one),
// and it stores nothing, since no proof of work can be guessed.
func FuzzRequests(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "requests/*.http") {
		f.Add(b)
	}
	fx, _ := followFixture(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http refuses it before any handler
		}
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, r)
		ct := rec.Header().Get("Content-Type")
		switch {
		case rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable:
			t.Fatalf("%q: %d %s", raw, rec.Code, rec.Body)
		case rec.Code >= 400 && ct != "application/problem+json" &&
			!(strings.HasPrefix(r.URL.Path, "/w/") && strings.HasPrefix(ct, "text/html")):
			t.Fatalf("%q: %d %q without a problem: %.200s", raw, rec.Code, ct, rec.Body)
		}
		if st, err := fx.sp.Stats(); err != nil || st.Pending != 0 {
			t.Fatalf("%q stored a report: %+v %v", raw, st, err)
		}
	})
}

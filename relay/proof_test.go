package relay

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/reportline/reportline/pow"
)

// proof asks the relay for a challenge for site, as the widget does, and
// returns its solution as the value of the proof-of-work header.
func (f *fixture) proof(t testing.TB, site string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/sites/"+site+"/challenge", nil))
	if rec.Code != 200 {
		t.Fatalf("challenge: status %d: %s", rec.Code, rec.Body)
	}
	var c pow.Challenge
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	s, err := pow.Solve(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Encode()
}

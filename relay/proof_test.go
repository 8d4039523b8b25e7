package relay

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/reportline/reportline/pow"
)

// proof asks the relay for a version 2 challenge for site, as the widget
// does, and returns its solution as the value of the proof-of-work header.
func (f *fixture) proof(t testing.TB, site string) string {
	t.Helper()
	var c pow.ChallengeV2
	f.challenge(t, site, "?protocol=2", &c)
	sol, err := pow.SolveV2(&c.Parameters, pow.DeriveKey)
	if err != nil {
		t.Fatal(err)
	}
	return (&pow.PayloadV2{Challenge: c, Solution: *sol}).Encode()
}

// proofV1 does the same with a version 1 challenge, as the clients of the
// transition ask for one.
func (f *fixture) proofV1(t testing.TB, site string) string {
	t.Helper()
	var c pow.Challenge
	f.challenge(t, site, "", &c)
	s, err := pow.Solve(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Encode()
}

// challenge GETs a challenge for site with the query and decodes it into c.
func (f *fixture) challenge(t testing.TB, site, query string, c any) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/sites/"+site+"/challenge"+query, nil))
	if rec.Code != 200 {
		t.Fatalf("challenge: status %d: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), c); err != nil {
		t.Fatal(err)
	}
}

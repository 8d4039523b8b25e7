package relay

import (
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
)

// benchAbuse lets every benchmark request through the limits, so that
// each measures the path it names. The proof-of-work difficulty stays
// put: the benchmarks solve thousands of proofs before they start, and a
// difficulty raised by that load (it doubles each minute above
// raise_above_challenges_per_minute) would make the last proofs take so
// long that the first ones expired before they were sent.
const benchAbuse = `
[relay.pow]
difficulty = 64
max_difficulty = 64
cost = 1
v1_difficulty = 64
[relay.limits]
challenges_per_minute = 1e12
challenge_burst = 1000000000
reports_per_minute = 1e12
report_burst = 1000000000
total_reports_per_minute = 1e12
max_concurrent_reports = 1000
max_concurrent_reports_per_client = 1000
`

// BenchmarkAccept is the baseline: a report with valid work, checked and
// stored durably (one fsync).
func BenchmarkAccept(b *testing.B) {
	f := newFixtureWith(b, benchAbuse)
	_, body := f.sealed(b)
	ids, proofs := make([]string, b.N), make([]string, b.N)
	for i := range b.N {
		ids[i], proofs[i] = uuid.NewString(), f.proof(b, "s1")
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := range b.N {
		if rec := post(f.srv, "/v1/sites/s1/reports/"+ids[i], body, HeaderProof, proofs[i]); rec.Code != 202 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkRejectWithoutWork is a flood's request: a whole report, no
// proof of work. It is refused before its body is read.
func BenchmarkRejectWithoutWork(b *testing.B) {
	f := newFixtureWith(b, benchAbuse)
	id, body := f.sealed(b)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body); rec.Code != 403 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkRejectForgedWork is a flood with made-up proofs: refused after
// one HMAC, before the body is read.
func BenchmarkRejectForgedWork(b *testing.B) {
	f := newFixtureWith(b, benchAbuse)
	k := newHostileKit(b, f)
	id, body := f.sealed(b)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, HeaderProof, k.forged); rec.Code != 403 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkChallenge is the cost of issuing one challenge.
func BenchmarkChallenge(b *testing.B) {
	f := newFixtureWith(b, benchAbuse)
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/sites/s1/challenge", nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

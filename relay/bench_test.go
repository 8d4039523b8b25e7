package relay

import (
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/loadtest"
)

// benchAbuse lets every benchmark request through the limits.
const benchAbuse = loadtest.RelayLimits

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

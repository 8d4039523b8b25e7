package pow

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

// TestReplayStoreReserve: a reserved proof is held by one request at a
// time, even for the same report; once let go it admits that report
// again, never another; and a held proof is not swept while held, even
// past its expiry.
func TestReplayStoreReserve(t *testing.T) {
	r := NewReplayStore(1)
	a := Proof{ID: sha256.Sum256([]byte("a")), Expires: testNow.Add(time.Minute)}
	done, err := r.Reserve(a, "report-1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reserve(a, "report-1", testNow); !errors.Is(err, ErrInUse) {
		t.Fatalf("the same report on a second request while the first holds the proof: %v, want ErrInUse", err)
	}
	if err := r.Redeem(a, "report-1", testNow); !errors.Is(err, ErrInUse) {
		t.Fatalf("Redeem while held: %v, want ErrInUse", err)
	}
	if _, err := r.Reserve(a, "report-2", testNow); !errors.Is(err, ErrReplayed) {
		t.Fatalf("another report while held: %v, want ErrReplayed", err)
	}
	done()
	done() // a second call changes nothing
	again, err := r.Reserve(a, "report-1", testNow)
	if err != nil {
		t.Fatalf("the same report after the first request ended: %v", err)
	}
	if _, err := r.Reserve(a, "report-2", testNow); !errors.Is(err, ErrReplayed) {
		t.Fatalf("another report after the first request ended: %v, want ErrReplayed", err)
	}
	// Past its expiry but still held: the store is full, and the sweep
	// keeps it until it is let go.
	b := Proof{ID: sha256.Sum256([]byte("b")), Expires: testNow.Add(time.Hour)}
	later := testNow.Add(2 * time.Minute)
	if _, err := r.Reserve(b, "report-3", later); !errors.Is(err, ErrReplayFull) {
		t.Fatalf("a new proof while an expired one is held: %v, want ErrReplayFull", err)
	}
	again()
	if _, err := r.Reserve(b, "report-3", later.Add(time.Second)); err != nil || r.Len() != 1 {
		t.Fatalf("a new proof once the expired one was let go: %v, %d held", err, r.Len())
	}
}

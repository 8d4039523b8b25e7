package intake

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
)

// Stats counts what the intake did with each delivery, by outcome, and
// the flushes that made reports durable, failed ones included: what an
// operator's metrics show.
func TestStats(t *testing.T) {
	f := newFixture(t)
	if st := f.in.Stats(); st.Stored != 0 || st.Flushes != 0 || len(st.Refused) != 0 {
		t.Fatalf("a new intake counts %+v", st)
	}
	body := f.payload(t, rid)
	now := time.Now()
	expect := func(what string, code int, got int) {
		t.Helper()
		if got != code {
			t.Fatalf("%s: answered %d, want %d", what, got, code)
		}
	}
	expect("a new report", 200, f.deliver(t, rid, body, now, f.signer).Code)
	st := f.in.Stats()
	// Grouped: one flush for the data, one for the names; portable: one
	// for the folder at least.
	if st.Stored != 1 || st.Flushes == 0 || st.FlushTime <= 0 || st.FlushFailures != 0 {
		t.Fatalf("after one report stored: %+v", st)
	}
	flushes := st.Flushes

	expect("the same attempt again", http.StatusConflict, f.deliver(t, rid, body, now, f.signer).Code)
	expect("a later attempt of the same report", 200, f.deliver(t, rid, body, now.Add(time.Second), f.signer).Code)
	sk, _, _ := delivery.GenerateEd25519()
	stranger, _ := delivery.NewEd25519Signer(sk)
	expect("a delivery signed with another key", http.StatusUnauthorized, f.deliver(t, rid2, f.payload(t, rid2), now, stranger).Code)

	f.in.dirs.wrap = func(func() error) error { return errors.New("injected flush failure") }
	expect("a report whose flush fails", http.StatusServiceUnavailable, f.deliver(t, rid2, f.payload(t, rid2), now, f.signer).Code)

	st = f.in.Stats()
	if st.Stored != 1 || st.Duplicates != 1 {
		t.Errorf("stored %d, duplicates %d; want 1 and 1", st.Stored, st.Duplicates)
	}
	want := map[string]uint64{"replayed": 1, "bad-signature": 1, "store-unavailable": 1}
	if len(st.Refused) != len(want) {
		t.Errorf("refused %v, want %v", st.Refused, want)
	}
	for name, n := range want {
		if st.Refused[name] != n {
			t.Errorf("refused %q: %d, want %d (all: %v)", name, st.Refused[name], n, st.Refused)
		}
	}
	if st.FlushFailures != 1 || st.Flushes != flushes+1 {
		t.Errorf("after a failed flush: %d flushes, %d failed; want %d and 1", st.Flushes, st.FlushFailures, flushes+1)
	}
	// The copy returned is the caller's.
	st.Refused["replayed"] = 99
	if f.in.Stats().Refused["replayed"] != 1 {
		t.Error("Stats returned the intake's own map")
	}
}

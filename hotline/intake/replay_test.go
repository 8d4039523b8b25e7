package intake

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
)

func TestRefusesReplay(t *testing.T) {
	f := newFixture(t)
	body := f.payload(t, rid)
	now := time.Now()
	req := func() *http.Request {
		r := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(body))
		if err := delivery.SetHeaders(r.Header, f.signer, rid, now, body); err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := req()
	captured := first.Header.Clone()
	rec := httptest.NewRecorder()
	f.in.ServeHTTP(rec, first)
	if rec.Code != 200 {
		t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
	}
	// The same signed request again, within the tolerance: a replay.
	again := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(body))
	again.Header = captured
	rec = httptest.NewRecorder()
	f.in.ServeHTTP(rec, again)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "replayed") {
		t.Fatalf("replay: %d %s", rec.Code, rec.Body)
	}
	// The relay's own retry signs anew, and is acknowledged as a duplicate.
	if rec := f.deliver(t, rid, body, now.Add(time.Second), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), "duplicate") {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	// Past the tolerance the replay is stale, and the cache forgets it.
	f.in.Now = func() time.Time { return now.Add(delivery.DefaultTolerance + 2*time.Second) }
	rec = httptest.NewRecorder()
	stale := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(body))
	stale.Header = captured
	f.in.ServeHTTP(rec, stale)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("stale replay: %d %s", rec.Code, rec.Body)
	}
	f.in.replay.mu.Lock()
	n := len(f.in.replay.seen)
	f.in.replay.mu.Unlock()
	if rec := f.deliver(t, rid, body, f.in.Now(), f.signer); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	f.in.replay.mu.Lock()
	defer f.in.replay.mu.Unlock()
	if n != 2 || len(f.in.replay.seen) != 1 {
		t.Errorf("replay cache held %d, then %d entries; want expired ones pruned", n, len(f.in.replay.seen))
	}
}

func TestReplayCacheBounded(t *testing.T) {
	var c replayCache
	now := time.Now()
	for i := range maxReplayEntries + 10 {
		c.first("id", now, now.Add(time.Duration(i)), now, time.Minute)
	}
	if len(c.seen) > maxReplayEntries+1 {
		t.Errorf("cache holds %d entries", len(c.seen))
	}
}

// A replay is recognised by what the signature covers, not by the bytes of
// the signature header: appending an entry of an unknown version (which
// Verify skips) leaves the same delivery, and it is refused as a replay,
// also after the analyst moved the files out of the inbox.
func TestReplayWithExtraSignatureEntry(t *testing.T) {
	f := newFixture(t)
	body := f.payload(t, rid)
	hdr := http.Header{}
	if err := delivery.SetHeaders(hdr, f.signer, rid, time.Now(), body); err != nil {
		t.Fatal(err)
	}
	send := func(h http.Header) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(body))
		r.Header = h.Clone()
		rec := httptest.NewRecorder()
		f.in.ServeHTTP(rec, r)
		return rec
	}
	if rec := send(hdr); rec.Code != 200 {
		t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
	}
	moved := t.TempDir()
	for _, name := range files(t, f.inbox) {
		if err := os.Rename(filepath.Join(f.inbox, name), filepath.Join(moved, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, extra := range []string{" v9,AAAA", "  v1a,AAAA v9,AAAA"} {
		h := hdr.Clone()
		h.Set(delivery.HeaderSignature, h.Get(delivery.HeaderSignature)+extra)
		if rec := send(h); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "replayed") {
			t.Errorf("replay with %q appended: %d %s", extra, rec.Code, rec.Body)
		}
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Errorf("a replay re-created %v in the inbox", got)
	}
}

// Two attempts of the same report signed within the same second (a relay
// restarted after a crash re-sends at once) carry different attempt times
// in the signed body, and the second is not taken for a replay.
func TestResendInSameSecondIsNoReplay(t *testing.T) {
	f := newFixture(t)
	now := time.Now().Truncate(time.Second).Add(100 * time.Millisecond)
	first := f.payloadAt(t, rid, now)
	second := f.payloadAt(t, rid, now.Add(time.Millisecond))
	if rec := f.deliver(t, rid, first, now, f.signer); rec.Code != 200 {
		t.Fatalf("first attempt: %d %s", rec.Code, rec.Body)
	}
	if rec := f.deliver(t, rid, second, now, f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), "duplicate") {
		t.Fatalf("second attempt in the same second: %d %s", rec.Code, rec.Body)
	}
	// The first attempt again, signed the same: a replay.
	if rec := f.deliver(t, rid, first, now, f.signer); rec.Code != http.StatusConflict {
		t.Fatalf("replayed first attempt: %d %s", rec.Code, rec.Body)
	}
}

// Attempts that arrive out of order (a slow first attempt overtaken by a
// retry) are each taken once: the later first, the earlier then as a
// duplicate; each sent again is a replay, and one attempt's signature on
// another's body does not verify.
func TestReorderedAttempts(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	early, late := now.Add(-2*time.Minute), now
	first, retry := f.payloadAt(t, rid, early), f.payloadAt(t, rid, late)
	if rec := f.deliver(t, rid, retry, late, f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), "stored") {
		t.Fatalf("the retry, first to arrive: %d %s", rec.Code, rec.Body)
	}
	if rec := f.deliver(t, rid, first, early, f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), "duplicate") {
		t.Fatalf("the first attempt, arriving late: %d %s", rec.Code, rec.Body)
	}
	for name, a := range map[string]struct {
		body []byte
		ts   time.Time
	}{"retry": {retry, late}, "first attempt": {first, early}} {
		if rec := f.deliver(t, rid, a.body, a.ts, f.signer); rec.Code != http.StatusConflict {
			t.Errorf("the %s again: %d %s", name, rec.Code, rec.Body)
		}
	}
	// The first attempt's headers on the retry's body.
	r := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(retry))
	if err := delivery.SetHeaders(r.Header, f.signer, rid, early, first); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	f.in.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("one attempt's signature on another's body: %d %s", rec.Code, rec.Body)
	}
	if got := files(t, f.inbox); len(got) != 2 {
		t.Errorf("the inbox holds %v, want the report's two files", got)
	}
}

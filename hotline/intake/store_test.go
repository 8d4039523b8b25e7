package intake

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A report whose .json could not be written is not taken for a duplicate
// when the relay tries again: the .age, written last, marks it complete.
func TestFailedWriteDoesNotHideReport(t *testing.T) {
	f := newFixture(t)
	fail := true
	f.in.writeFile = func(path string, data []byte, perm os.FileMode) error {
		if fail && strings.HasSuffix(path, ".json") {
			return errors.New("injected write failure")
		}
		return WriteFileAtomic(path, data, perm)
	}
	body := f.payload(t, rid)
	if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("failed write: %d %s", rec.Code, rec.Body)
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Fatalf("a failed store left %v in the inbox", got)
	}
	fail = false
	if rec := f.deliver(t, rid, body, time.Now().Add(time.Second), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	if _, err := os.Stat(filepath.Join(f.inbox, rid+".json")); err != nil {
		t.Errorf("the retried report was not opened: %v", err)
	}
}

// Deliveries of different reports are stored at the same time; those of
// one report are not, and exactly one of them stores it.
func TestConcurrentDeliveries(t *testing.T) {
	f := newFixture(t)
	ids := []string{rid, "6f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", "7f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"}
	bodies := map[string][]byte{}
	for _, id := range ids {
		bodies[id] = f.payload(t, id)
	}
	const each = 6
	var mu sync.Mutex
	stored := map[string]int{}
	var wg sync.WaitGroup
	for _, id := range ids {
		for i := range each {
			wg.Go(func() {
				body := f.payloadAt(t, id, time.Now().Add(time.Duration(i)*time.Millisecond))
				rec := f.deliver(t, id, body, time.Now(), f.signer)
				if rec.Code != 200 {
					t.Errorf("%s: %d %s", id, rec.Code, rec.Body)
					return
				}
				if strings.Contains(rec.Body.String(), `"stored"`) {
					mu.Lock()
					stored[id]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, id := range ids {
		if stored[id] != 1 {
			t.Errorf("report %s stored %d times, want once", id, stored[id])
		}
		if _, err := os.Stat(filepath.Join(f.inbox, id+".json")); err != nil {
			t.Error(err)
		}
	}
	if got := files(t, f.inbox); len(got) != 2*len(ids) {
		t.Errorf("inbox holds %v", got)
	}
	f.in.mu.Lock()
	defer f.in.mu.Unlock()
	if len(f.in.storing) != 0 {
		t.Errorf("%d report locks left after the deliveries", len(f.in.storing))
	}
}

// An .age left without its .json (a crash between the two writes) is
// completed by the next delivery of the report, not taken for a duplicate.
func TestLoneEnvelopeCompleted(t *testing.T) {
	f := newFixture(t)
	body := f.payload(t, rid)
	var p struct {
		Data struct{ Envelope []byte } `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.inbox, rid+".age"), p.Data.Envelope, 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	if _, err := os.Stat(filepath.Join(f.inbox, rid+".json")); err != nil {
		t.Errorf("the report was not opened: %v", err)
	}
	if rec := f.deliver(t, rid, body, time.Now().Add(time.Second), f.signer); !strings.Contains(rec.Body.String(), `"duplicate"`) {
		t.Errorf("once complete, a delivery is a duplicate: %d %s", rec.Code, rec.Body)
	}
}

package intake

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testcert"
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

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "hotline CA")
	caFile, certFile, keyFile := ca.WriteFiles(t, dir, "intake.test", true)
	tc, err := ServerTLS(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	ts := httptest.NewUnstartedServer(f.in)
	ts.TLS = tc
	ts.StartTLS()
	defer ts.Close()
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs}}}
	}
	body := f.payload(t, rid)
	send := func(c *http.Client) (int, error) {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/deliveries", bytes.NewReader(body))
		delivery.SetHeaders(req.Header, f.signer, rid, time.Now(), body)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if _, err := send(client()); err == nil {
		t.Error("a client without a certificate was let in")
	}
	other := testcert.NewCA(t, "someone else")
	stranger, _, _ := other.Issue(t, "relay", false)
	if _, err := send(client(stranger)); err == nil {
		t.Error("a client with a certificate from another CA was let in")
	}
	good, _, _ := ca.Issue(t, "relay", false)
	if code, err := send(client(good)); err != nil || code != 200 {
		t.Errorf("the relay's certificate: %d, %v", code, err)
	}
	if _, err := ServerTLS(certFile, keyFile, certFile+".missing"); err == nil {
		t.Error("a missing client CA file was accepted")
	}
	if tc, err := ServerTLS(certFile, keyFile, ""); err != nil || tc.ClientAuth != tls.NoClientCert || tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("without client CA: %v, %v", tc, err)
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

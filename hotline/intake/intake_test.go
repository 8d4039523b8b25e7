package intake

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/report"
)

type fixture struct {
	in     *Intake
	signer delivery.Signer
	rcpts  *report.Recipients
	inbox  string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sk, pk, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	v, err := delivery.NewVerifier(pk)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateHybridIdentity()
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	inbox := t.TempDir()
	return &fixture{
		in:     &Intake{Verifier: v, Inbox: inbox, Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)},
		signer: signer, rcpts: rcpts, inbox: inbox,
	}
}

const rid = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"

func (f *fixture) payload(t testing.TB, id string) []byte {
	t.Helper()
	return f.payloadAt(t, id, time.Now())
}

// payloadAt makes a delivery body for an attempt made at ts.
func (f *fixture) payloadAt(t testing.TB, id string, ts time.Time) []byte {
	t.Helper()
	b, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: ts.UTC(), Data: f.data(t, id, f.rcpts)})
	return b
}

// data makes the data of a delivery of report id (hotline "h1", site
// "s1"), its envelope sealed to rc.
func (f *fixture) data(t testing.TB, id string, rc *report.Recipients) delivery.Data {
	t.Helper()
	r := &report.Report{Version: 1, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam"}
	env, err := report.Seal(r, rc)
	if err != nil {
		t.Fatal(err)
	}
	return delivery.Data{ID: id, Hotline: "h1", Site: "s1", Received: time.Now().UTC(), Envelope: env}
}

func (f *fixture) deliver(t testing.TB, id string, body []byte, ts time.Time, signer delivery.Signer) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signer != nil {
		if err := delivery.SetHeaders(req.Header, signer, id, ts, body); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	f.in.ServeHTTP(rec, req)
	return rec
}

func files(t *testing.T, dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestStoresOpensAndDeduplicates(t *testing.T) {
	f := newFixture(t)
	body := f.payload(t, rid)
	if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b, err := os.ReadFile(filepath.Join(f.inbox, rid+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var o Opened
	if err := json.Unmarshal(b, &o); err != nil || o.Report == nil || o.Report.ID != rid || o.Reference != report.Reference(rid) || len(o.Problems) != 0 {
		t.Fatalf("opened %s (%v)", b, err)
	}
	// The same delivery again (the relay retrying after a lost answer) is
	// acknowledged and not stored twice.
	if rec := f.deliver(t, rid, body, time.Now().Add(time.Second), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"duplicate"`) {
		t.Fatalf("redelivery: status %d: %s", rec.Code, rec.Body)
	}
	if got := files(t, f.inbox); len(got) != 2 {
		t.Errorf("inbox holds %v, want one .age and one .json", got)
	}
}

func TestRefuses(t *testing.T) {
	f := newFixture(t)
	sk, _, _ := delivery.GenerateEd25519()
	forger, _ := delivery.NewEd25519Signer(sk)
	good := f.payload(t, rid)
	otherHotline := bytes.Replace(good, []byte(`"hotline":"h1"`), []byte(`"hotline":"h2"`), 1)
	tests := []struct {
		name   string
		id     string
		body   []byte
		ts     time.Time
		signer delivery.Signer
		status int
	}{
		{"unsigned", rid, good, time.Now(), nil, 401},
		{"forged", rid, good, time.Now(), forger, 401},
		{"stale", rid, good, time.Now().Add(-10 * time.Minute), f.signer, 401},
		{"future", rid, good, time.Now().Add(10 * time.Minute), f.signer, 401},
		{"id mismatch", "6f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", good, time.Now(), f.signer, 400},
		{"other hotline", rid, otherHotline, time.Now(), f.signer, 400},
		{"not json", rid, []byte("hello"), time.Now(), f.signer, 400},
		{"upper-case id", strings.ToUpper(rid), f.payload(t, strings.ToUpper(rid)), time.Now(), f.signer, 400},
		{"braced id", "{" + rid + "}", f.payload(t, "{"+rid+"}"), time.Now(), f.signer, 400},
		{"unknown field", rid, bytes.Replace(good, []byte(`{"type"`), []byte(`{"x":1,"type"`), 1), time.Now(), f.signer, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.deliver(t, tt.id, tt.body, tt.ts, tt.signer)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Errorf("refused deliveries left %v in the inbox", got)
	}
	req := httptest.NewRequest("GET", "/v1/deliveries", nil)
	rec := httptest.NewRecorder()
	f.in.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d", rec.Code)
	}

	// Deliveries a relay never sends, each signed as the relay signs, so
	// that only what is spoilt is refused.
	many := strings.Repeat("v1,"+strings.Repeat("A", 43)+"= ", 16)
	hostile := []struct {
		name   string
		body   []byte // nil: a fresh delivery, not a replay
		edit   func(r *http.Request)
		status int
		ptype  string
	}{
		{"trailing garbage", append(append([]byte(nil), good...), " {}"...), nil, 400, "bad-delivery"},
		{"a second object", append(append([]byte(nil), good...), good...), nil, 400, "bad-delivery"},
		{"byte order mark", append([]byte("\xef\xbb\xbf"), good...), nil, 400, "bad-delivery"},
		{"text/plain", nil, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, 415, "bad-content-type"},
		{"JSON with a parameter, and gzip", nil, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			r.Header.Set("Content-Encoding", "gzip")
		}, 415, "bad-content-encoding"},
		{"a form", nil, func(r *http.Request) { r.Header.Set("Content-Type", "multipart/form-data; boundary=x") }, 415, "bad-content-type"},
		{"JSON, and a second type", nil, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Add("Content-Type", "text/plain")
		}, 415, "bad-content-type"},
		{"gzip", nil, func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }, 415, "bad-content-encoding"},
		{"declared over a batch's limit", nil, func(r *http.Request) { r.ContentLength = MaxBody + 1 }, 413, "too-large"},
		{"over a batch's limit", make([]byte, MaxBody+1), nil, 413, "too-large"},
		{"over the limit, not a batch", make([]byte, maxDelivery+1), nil, 413, "too-large"},
		{"a delivery over the limit", bytes.Replace(good, []byte(`"envelope":"`), []byte(`"envelope":"`+strings.Repeat("A", maxDelivery)), 1), nil, 413, "too-large"},
		{"signature entries past the limit", nil, func(r *http.Request) {
			r.Header.Set(delivery.HeaderSignature, many+r.Header.Get(delivery.HeaderSignature))
		}, 401, "bad-signature"},
		{"two ids", nil, func(r *http.Request) { r.Header.Add(delivery.HeaderID, rid) }, 401, "bad-signature"},
	}
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == nil {
				body = f.payload(t, rid)
			}
			req := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if err := delivery.SetHeaders(req.Header, f.signer, rid, time.Now(), body); err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(req)
			}
			rec := httptest.NewRecorder()
			f.in.ServeHTTP(rec, req)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(rec.Body.String(), `/problems/`+tt.ptype+`"`) {
				t.Fatalf("status %d %q, want %d %s: %s", rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.ptype, rec.Body)
			}
		})
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Errorf("refused deliveries left %v in the inbox", got)
	}
	if rec := f.deliver(t, rid, f.payload(t, rid), time.Now(), f.signer); rec.Code != 200 {
		t.Errorf("the unspoilt delivery: status %d: %s", rec.Code, rec.Body)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "a.json")
	if err := WriteFileAtomic(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "two" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v", b, st.Mode())
	}
	if got := files(t, filepath.Dir(p)); len(got) != 1 {
		t.Errorf("temporary files left: %v", got)
	}
}

package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/report"
)

// batchBody makes the body of a batch of ds, for an attempt made at ts.
func batchBody(ts time.Time, ds ...delivery.Data) []byte {
	b, _ := json.Marshal(delivery.Batch{Type: delivery.BatchEventType, Timestamp: ts.UTC(), Data: delivery.BatchData{Deliveries: ds}})
	return b
}

// deliverBatch signs body with a fresh webhook-id, as the relay signs an
// attempt at a batch, and delivers it; it returns the answer and the id.
func (f *fixture) deliverBatch(t testing.TB, body []byte, ts time.Time) (*httptest.ResponseRecorder, string) {
	t.Helper()
	id := uuid.NewString()
	return f.deliver(t, id, body, ts, f.signer), id
}

// answer decodes a 200 answer to a batch, and checks it announces batches.
func answer(t testing.TB, rec *httptest.ResponseRecorder) *delivery.BatchAnswer {
	t.Helper()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("batch: %d %q %s, want 200 JSON", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if got := rec.Header().Get(delivery.BatchHeader); got != strconv.Itoa(BatchSize) {
		t.Errorf("a 200 to a batch has %s %q, want %d", delivery.BatchHeader, got, BatchSize)
	}
	var a delivery.BatchAnswer
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	return &a
}

// sealedAll returns the data of a delivery of a report sealed to the
// hotline's keys for each id.
func (f *fixture) sealedAll(t testing.TB, ids []string) []delivery.Data {
	ds := make([]delivery.Data, len(ids))
	for i, id := range ids {
		ds[i] = f.data(t, id, f.rcpts)
	}
	return ds
}

// newIDs returns n new report ids.
func newIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	return ids
}

// A batch's reports are all stored, each as a single delivery would be,
// and the answer gives each one's result in the batch's order.
func TestBatchStoresAll(t *testing.T) {
	f := newFixture(t)
	ids := newIDs(5)
	ds := f.sealedAll(t, ids)
	rec, bid := f.deliverBatch(t, batchBody(time.Now(), ds...), time.Now())
	a := answer(t, rec)
	if a.ID != bid || len(a.Results) != len(ids) {
		t.Fatalf("answer %+v, want batch %s with %d results", a, bid, len(ids))
	}
	for i, id := range ids {
		if r := a.Results[i]; r.ID != id || r.Status != 200 || r.Result != "stored" || r.Problem != nil {
			t.Errorf("result %d: %+v, want %s stored", i, r, id)
		}
		b, err := os.ReadFile(filepath.Join(f.inbox, id+".json"))
		var o Opened
		if err != nil || json.Unmarshal(b, &o) != nil || o.Report == nil || o.Report.ID != id {
			t.Errorf("report %s: opened %s (%v)", id, b, err)
		}
		if env, err := os.ReadFile(filepath.Join(f.inbox, id+".age")); err != nil || !bytes.Equal(env, ds[i].Envelope) {
			t.Errorf("report %s: envelope not stored as delivered (%v)", id, err)
		}
	}
	if st := f.in.Stats(); st.Stored != 5 || st.Batches != 1 || st.Duplicates != 0 || len(st.Refused) != 0 {
		t.Errorf("Stats %+v, want 5 stored in 1 batch", st)
	}
}

// Each report of a batch gets what a single delivery of it would: a new
// one is stored, one already stored is a duplicate, and envelopes sealed
// to another number of recipients or to another key are refused with an
// alarm each, stored nowhere.
func TestBatchPerReportResults(t *testing.T) {
	f := newFixture(t)
	var raised []*Alarm
	var mu sync.Mutex
	f.in.Alarm = func(a *Alarm) { mu.Lock(); raised = append(raised, a); mu.Unlock() }
	ours := f.in.Identities[0].(*age.HybridIdentity)
	other, _ := age.GenerateHybridIdentity()
	both, _ := report.ParseRecipients([]string{ours.Recipient().String(), other.Recipient().String()})
	theirs, _ := report.ParseRecipients([]string{other.Recipient().String()})

	ids := newIDs(4) // new, duplicate, a recipient added, the key swapped
	if rec := f.deliver(t, ids[1], f.payload(t, ids[1]), time.Now(), f.signer); rec.Code != 200 {
		t.Fatalf("single delivery: %d %s", rec.Code, rec.Body)
	}
	rec, _ := f.deliverBatch(t, batchBody(time.Now(), f.data(t, ids[0], f.rcpts), f.data(t, ids[1], f.rcpts),
		f.data(t, ids[2], both), f.data(t, ids[3], theirs)), time.Now())
	a := answer(t, rec)
	want := []struct {
		status         int
		result, ptype  string
		kind, inDetail string
	}{
		{200, "stored", "", "", ""},
		{200, "duplicate", "", "", ""},
		{422, "", "tampered", AlarmRecipients, "sealed to 2 recipients"},
		{422, "", "tampered", AlarmUnopenable, "does not open with the hotline's identity"},
	}
	if len(a.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(a.Results), len(want), a.Results)
	}
	for i, w := range want {
		r := a.Results[i]
		if r.ID != ids[i] || r.Status != w.status || r.Result != w.result {
			t.Errorf("result %d: %+v, want %d %q", i, r, w.status, w.result)
			continue
		}
		if w.ptype == "" {
			if r.Problem != nil {
				t.Errorf("result %d: a problem with a 200: %+v", i, r.Problem)
			}
			continue
		}
		if p := r.Problem; p == nil || p.Type != "https://reportline.dev/problems/"+w.ptype || p.Status != w.status ||
			p.Title == "" || !strings.Contains(p.Detail, w.inDetail) {
			t.Errorf("result %d: problem %+v, want %s saying %q", i, r.Problem, w.ptype, w.inDetail)
		}
	}
	kinds := map[string]string{}
	for _, al := range raised {
		kinds[al.Report] = al.Kind
	}
	if len(raised) != 2 || kinds[ids[2]] != AlarmRecipients || kinds[ids[3]] != AlarmUnopenable {
		t.Errorf("alarms raised %+v, want %s for %s and %s for %s", raised, AlarmRecipients, ids[2], AlarmUnopenable, ids[3])
	}
	got := files(t, f.inbox)
	wantFiles := []string{ids[0] + ".age", ids[0] + ".json", ids[1] + ".age", ids[1] + ".json"}
	for _, name := range wantFiles {
		if _, err := os.Stat(filepath.Join(f.inbox, name)); err != nil {
			t.Error(err)
		}
	}
	if len(got) != len(wantFiles) {
		t.Errorf("inbox holds %v, want only %v", got, wantFiles)
	}
	st := f.in.Stats()
	if st.Stored != 2 || st.Duplicates != 1 || st.Batches != 1 || st.Refused["tampered"] != 2 || len(st.Refused) != 1 || f.in.Alarms() != 2 {
		t.Errorf("Stats %+v, %d alarms; want 2 stored, 1 duplicate, 1 batch, 2 tampered, 2 alarms", st, f.in.Alarms())
	}
}

// A batch that is malformed is refused whole, 400 bad-delivery with a
// detail that says what is wrong, and nothing of it is stored.
func TestBatchRefusedWhole(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	good := func() []delivery.Data { // two reports that would be stored
		return []delivery.Data{f.data(t, uuid.NewString(), f.rcpts), f.data(t, uuid.NewString(), f.rcpts)}
	}
	with := func(edit func(ds []delivery.Data) []delivery.Data) []byte {
		return batchBody(now, edit(good())...)
	}
	many := make([]delivery.Data, BatchSize+1)
	for i := range many {
		many[i] = delivery.Data{ID: uuid.NewString(), Hotline: "h1", Site: "s1", Received: now.UTC(), Envelope: []byte("x")}
	}
	tests := []struct {
		name, says string
		body       []byte
	}{
		{"an unknown field", "unknown field", bytes.Replace(with(func(ds []delivery.Data) []delivery.Data { return ds }), []byte(`{"type"`), []byte(`{"x":1,"type"`), 1)},
		{"an unknown field in a report", "unknown field", bytes.Replace(with(func(ds []delivery.Data) []delivery.Data { return ds }), []byte(`"site":"s1"`), []byte(`"site":"s1","ip":"127.0.0.1"`), 1)},
		{"no reports", "holds no report", batchBody(now)},
		{"null reports", "holds no report", []byte(`{"type":"report.batch","timestamp":"` + now.UTC().Format(time.RFC3339Nano) + `","data":{"deliveries":null}}`)},
		{"more than announced", "more than the 32", batchBody(now, many...)},
		{"a report twice", "twice", with(func(ds []delivery.Data) []delivery.Data { return append(ds, ds[0]) })},
		{"an upper-case id", "report 2 of the batch: report id is not a UUID", with(func(ds []delivery.Data) []delivery.Data {
			ds[1].ID = strings.ToUpper(ds[1].ID)
			return ds
		})},
		{"an id that is no UUID", "not a UUID", with(func(ds []delivery.Data) []delivery.Data { ds[0].ID = "../x"; return ds })},
		{"another hotline", `for hotline "h2"`, with(func(ds []delivery.Data) []delivery.Data { ds[1].Hotline = "h2"; return ds })},
		{"an empty envelope", "empty envelope", with(func(ds []delivery.Data) []delivery.Data { ds[0].Envelope = nil; return ds })},
		{"another type", "unknown event type", bytes.Replace(with(func(ds []delivery.Data) []delivery.Data { return ds }),
			[]byte(`"timestamp"`), []byte(`"type":"report.batches","timestamp"`), 1)},
		{"data after the object", "after the JSON object", append(with(func(ds []delivery.Data) []delivery.Data { return ds }), " {}"...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := f.deliverBatch(t, tt.body, now)
			var p struct{ Type, Detail string }
			json.Unmarshal(rec.Body.Bytes(), &p)
			if rec.Code != 400 || p.Type != "https://reportline.dev/problems/bad-delivery" || !strings.Contains(p.Detail, tt.says) {
				t.Errorf("status %d %s, want 400 bad-delivery saying %q", rec.Code, rec.Body, tt.says)
			}
			if h := rec.Header().Get(delivery.BatchHeader); h != "" {
				t.Errorf("a refusal announces batches: %s %q", delivery.BatchHeader, h)
			}
		})
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Errorf("refused batches left %v in the inbox", got)
	}
	if st := f.in.Stats(); st.Refused["bad-delivery"] != uint64(len(tests)) || st.Batches != 0 || st.Stored != 0 {
		t.Errorf("Stats %+v, want %d bad-delivery and nothing stored", st, len(tests))
	}
}

// A batch received before is refused as a replay, whatever its reports'
// results were; the relay's next attempt, signed anew, is answered.
func TestBatchReplayed(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	body := batchBody(now, f.data(t, rid, f.rcpts), f.data(t, rid2, f.rcpts))
	bid := uuid.NewString()
	if a := answer(t, f.deliver(t, bid, body, now, f.signer)); len(a.Results) != 2 {
		t.Fatalf("first attempt: %+v", a)
	}
	rec := f.deliver(t, bid, body, now, f.signer)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "/problems/replayed") {
		t.Fatalf("the same batch again: %d %s, want 409 replayed", rec.Code, rec.Body)
	}
	if h := rec.Header().Get(delivery.BatchHeader); h != "" {
		t.Errorf("a refusal announces batches: %q", h)
	}
	later := now.Add(time.Second)
	a := answer(t, f.deliver(t, uuid.NewString(), batchBody(later, f.data(t, rid, f.rcpts), f.data(t, rid2, f.rcpts)), later, f.signer))
	for _, r := range a.Results {
		if r.Status != 200 || r.Result != "duplicate" {
			t.Errorf("a later attempt: %+v, want duplicate", r)
		}
	}
}

// Every 2xx answer, to a single delivery as to a batch, announces that
// the intake takes batches, and how many reports one may hold; a refusal
// does not.
func TestAnnouncesBatches(t *testing.T) {
	f := newFixture(t)
	rec := f.deliver(t, rid, f.payload(t, rid), time.Now(), f.signer)
	if rec.Code != 200 || rec.Header().Get(delivery.BatchHeader) != "32" {
		t.Errorf("a single delivery stored: %d, %s %q; want 200 and 32", rec.Code, delivery.BatchHeader, rec.Header().Get(delivery.BatchHeader))
	}
	rec = f.deliver(t, rid, f.payload(t, rid), time.Now().Add(time.Second), f.signer)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "duplicate") || rec.Header().Get(delivery.BatchHeader) != "32" {
		t.Errorf("a duplicate: %d %s, %s %q; want 200 and 32", rec.Code, rec.Body, delivery.BatchHeader, rec.Header().Get(delivery.BatchHeader))
	}
	if n, err := strconv.Atoi(rec.Header().Get(delivery.BatchHeader)); err != nil || n < 2 || n > delivery.MaxBatch {
		t.Errorf("announced %q, want 2 to %d", rec.Header().Get(delivery.BatchHeader), delivery.MaxBatch)
	}
	answer(t, f.deliver(t, uuid.NewString(), batchBody(time.Now(), f.data(t, rid2, f.rcpts)), time.Now(), f.signer))
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"unsigned":  f.deliver(t, rid2, f.payload(t, rid2), time.Now(), nil),
		"malformed": f.deliver(t, rid2, []byte("{}"), time.Now(), f.signer),
	} {
		if rec.Code == 200 || rec.Header().Get(delivery.BatchHeader) != "" {
			t.Errorf("%s: %d, %s %q; want a refusal without it", name, rec.Code, delivery.BatchHeader, rec.Header().Get(delivery.BatchHeader))
		}
	}
}

// With an inbox that cannot be written, each report of a batch is
// answered 503 store-unavailable, as it would be alone, and nothing is
// stored.
func TestBatchInboxUnwritable(t *testing.T) {
	f := newFixture(t)
	notDir := filepath.Join(t.TempDir(), "inbox")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil { // a file where the folder should be
		t.Fatal(err)
	}
	f.in.Inbox = notDir
	ids := newIDs(3)
	ds := f.sealedAll(t, ids)
	rec, _ := f.deliverBatch(t, batchBody(time.Now(), ds...), time.Now())
	a := answer(t, rec)
	if len(a.Results) != len(ids) {
		t.Fatalf("results %+v", a.Results)
	}
	for i, r := range a.Results {
		if r.ID != ids[i] || r.Status != 503 || r.Problem == nil || r.Problem.Type != "https://reportline.dev/problems/store-unavailable" || r.Result != "" {
			t.Errorf("result %d: %+v, want 503 store-unavailable for %s", i, r, ids[i])
		}
	}
	if st := f.in.Stats(); st.Stored != 0 || st.Refused["store-unavailable"] != 3 {
		t.Errorf("Stats %+v, want nothing stored and 3 store-unavailable", st)
	}
	if b, err := os.ReadFile(notDir); err != nil || len(b) != 0 {
		t.Errorf("the file in the inbox's place was changed: %q %v", b, err)
	}
	if got := files(t, filepath.Dir(notDir)); len(got) != 1 {
		t.Errorf("beside the inbox: %v, want nothing written", got)
	}
}

// A batch's reports take the flushes of one report together, whenever
// each finishes opening: grouped, exactly two (one for the data, one for
// the names), portable one (of the folder). Nothing holds the flush: the
// batch is opened whole before any of it is written, and then written
// whole.
func TestBatchSharesFlushes(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "grouped", true: "portable"}[portable], func(t *testing.T) {
			f := newFixture(t)
			fl := &f.in.dirs
			fl.portable = portable
			ids := newIDs(BatchSize)
			ds := f.sealedAll(t, ids)
			a := answer(t, func() *httptest.ResponseRecorder {
				rec, _ := f.deliverBatch(t, batchBody(time.Now(), ds...), time.Now())
				return rec
			}())
			for i, r := range a.Results {
				if r.Result != "stored" {
					t.Errorf("result %d: %+v", i, r)
				}
			}
			if got := files(t, f.inbox); len(got) != 2*BatchSize {
				t.Errorf("inbox holds %d files, want %d", len(got), 2*BatchSize)
			}
			want := uint64(1)
			if fl.grouped {
				want = 2
			}
			if st := f.in.Stats(); st.Flushes != want || st.Stored != BatchSize {
				t.Errorf("a batch of %d took %d flushes for %d stored, want %d", BatchSize, st.Flushes, st.Stored, want)
			}
		})
	}
}

// A report of a batch whose file fails to be written is answered 503 and
// leaves nothing, while the others of the batch, written with it, are
// stored; the relay's next attempt stores it.
func TestBatchOneWriteFails(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "grouped", true: "portable"}[portable], func(t *testing.T) {
			f := newFixture(t)
			f.in.dirs.portable = portable
			ids := newIDs(4)
			bad := ids[2]
			fail := true
			var mu sync.Mutex
			f.in.stageFile = func(path string, data []byte, fl *flusher) (staged, error) {
				mu.Lock()
				failing := fail
				mu.Unlock()
				if failing && filepath.Base(path) == bad+".age" {
					return nil, errors.New("injected write failure")
				}
				return stageFile(path, data, fl)
			}
			ds := f.sealedAll(t, ids)
			rec, _ := f.deliverBatch(t, batchBody(time.Now(), ds...), time.Now())
			a := answer(t, rec)
			for i, r := range a.Results {
				if ids[i] == bad {
					if r.Status != 503 || r.Problem == nil || r.Problem.Type != "https://reportline.dev/problems/store-unavailable" {
						t.Errorf("result %d: %+v, want 503 store-unavailable", i, r)
					}
				} else if r.Status != 200 || r.Result != "stored" {
					t.Errorf("result %d: %+v, want stored", i, r)
				}
			}
			got := files(t, f.inbox)
			if len(got) != 6 {
				t.Errorf("inbox holds %v, want the 6 files of the 3 reports stored", got)
			}
			for _, name := range got {
				if strings.HasPrefix(name, bad) || strings.HasPrefix(name, tempPrefix) {
					t.Errorf("the failed report left %s", name)
				}
			}
			mu.Lock()
			fail = false
			mu.Unlock()
			rec, _ = f.deliverBatch(t, batchBody(time.Now().Add(time.Second), ds...), time.Now())
			a = answer(t, rec)
			for i, r := range a.Results {
				want := "duplicate"
				if ids[i] == bad {
					want = "stored"
				}
				if r.Result != want {
					t.Errorf("retry, result %d: %+v, want %s", i, r, want)
				}
			}
			if got := files(t, f.inbox); len(got) != 8 {
				t.Errorf("after the retry the inbox holds %v, want 8 files", got)
			}
		})
	}
}

// Batches that share reports, each listing them in another order, are
// stored at the same time without waiting for each other forever: a
// batch takes the locks of its reports in one order.
func TestBatchesSharingReports(t *testing.T) {
	f := newFixture(t)
	ids := newIDs(2)
	x, y := f.data(t, ids[0], f.rcpts), f.data(t, ids[1], f.rcpts)
	const rounds = 20
	done := make(chan *httptest.ResponseRecorder, 2*rounds)
	ts := time.Now()
	for k := range rounds {
		for _, ds := range [][]delivery.Data{{x, y}, {y, x}} {
			body := batchBody(ts.Add(time.Duration(k)*time.Millisecond), ds...)
			go func() { rec, _ := f.deliverBatch(t, body, time.Now()); done <- rec }()
		}
	}
	limit := time.After(time.Minute)
	stored := 0
	for range 2 * rounds {
		select {
		case rec := <-done:
			stored += strings.Count(answerBody(rec), `"stored"`)
		case <-limit:
			t.Fatal("batches sharing reports did not all finish within a minute: they wait for each other")
		}
	}
	if st := f.in.Stats(); stored != 2 || st.Stored != 2 || st.Duplicates != 2*2*rounds-2 {
		t.Errorf("%d answered stored, Stats %+v; want 2 stored and the rest duplicates", stored, st)
	}
}

// answerBody is the body of a 200 answer, or "" for another.
func answerBody(rec *httptest.ResponseRecorder) string {
	if rec.Code != 200 {
		return ""
	}
	return rec.Body.String()
}

// Bodies larger than a single delivery are held MaxLargeBodies at a time
// (here one): while one is being read, unsigned, another large one is
// refused 503 busy before it is all read, and stores nothing, while a
// single delivery goes on being stored; once the first is answered, the
// large one is taken.
func TestLargeBodiesBounded(t *testing.T) {
	f := newFixture(t)
	f.in.maxLarge = 1
	// A request with genuine headers whose body, unsigned, arrives
	// through a pipe: once a write past a single delivery's size has
	// returned, the intake has read it, and holds it as a large body.
	pr, pw := io.Pipe()
	req := httptest.NewRequest("POST", "/v1/deliveries", pr)
	req.Header.Set("Content-Type", "application/json")
	if err := delivery.SetHeaders(req.Header, f.signer, rid, time.Now(), []byte("another body")); err != nil {
		t.Fatal(err)
	}
	held := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.in.ServeHTTP(held, req)
	}()
	if _, err := pw.Write(make([]byte, maxDelivery+2)); err != nil {
		t.Fatal(err)
	}
	var ds []delivery.Data
	for range 24 {
		ds = append(ds, f.data(t, uuid.NewString(), f.rcpts))
	}
	large := batchBody(time.Now(), ds...)
	if len(large) <= maxDelivery {
		t.Fatalf("a batch of %d bytes is no larger than a single delivery", len(large))
	}
	rec, _ := f.deliverBatch(t, large, time.Now())
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "/problems/busy") {
		t.Fatalf("a second large body: %d %s, want 503 busy", rec.Code, rec.Body)
	}
	if rec := f.deliver(t, rid2, f.payload(t, rid2), time.Now(), f.signer); rec.Code != 200 {
		t.Errorf("a single delivery beside the large body: %d %s", rec.Code, rec.Body)
	}
	pw.Close()
	<-done
	if held.Code != http.StatusUnauthorized {
		t.Errorf("the unsigned large body: %d %s, want 401", held.Code, held.Body)
	}
	a := answer(t, f.deliver(t, uuid.NewString(), large, time.Now().Add(time.Second), f.signer))
	for i, r := range a.Results {
		if r.Result != "stored" {
			t.Errorf("result %d once the first large body was answered: %+v", i, r)
		}
	}
	if got := files(t, f.inbox); len(got) != 2*(len(ds)+1) {
		t.Errorf("inbox holds %d files, want %d", len(got), 2*(len(ds)+1))
	}
	if n := f.in.large.Load(); n != 0 {
		t.Errorf("%d large bodies counted as held after every request was answered", n)
	}
}

// onCPUs does each of its n pieces of work once, whatever n is against
// the number of goroutines it runs, and raises a panic again in the
// caller's goroutine, as inParallel does.
func TestOnCPUs(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 32, 100} {
		done := make([]atomic.Int32, n)
		onCPUs(n, func(i int) { done[i].Add(1) })
		for i := range done {
			if c := done[i].Load(); c != 1 {
				t.Fatalf("n=%d: piece %d done %d times", n, i, c)
			}
		}
	}
	defer func() {
		if v := recover(); v != "piece 7" {
			t.Fatalf("recovered %v, want the panic of piece 7", v)
		}
	}()
	onCPUs(32, func(i int) {
		if i == 7 {
			panic("piece 7")
		}
	})
	t.Fatal("the panic was not raised again")
}

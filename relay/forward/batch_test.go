package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/fuzzseed"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
)

// batchIntake is an intake that takes batched deliveries as
// docs/delivery.md specifies, announcing them as told, and records every
// request.
type batchIntake struct {
	verifier *delivery.Verifier

	mu       sync.Mutex
	announce string // the delivery.BatchHeader of its 2xx answers; "" none
	// hide leaves the header out of its answers, while it still takes
	// the batches it announced before.
	hide bool
	// status, if set, answers every batch with it, without results.
	status int
	// answer, if set, is the body of every 200 answer to a batch.
	answer []byte
	// results are the results, by report id, other than "stored".
	results map[string]delivery.BatchResult
	omit    map[string]bool // reports a batch's answer has no result for
	gate    chan struct{}   // if set, every answer waits for it to close
	reqs    []intakeRequest
}

// intakeRequest is a delivery the intake received.
type intakeRequest struct {
	batch     bool
	webhookID string
	verified  bool
	ids       []string // the reports, in the batch's order
	header    http.Header
	body      []byte
	refused   string // why the intake refused it, if it did
}

func (in *batchIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, _, err := in.verifier.Verify(r.Header, body, time.Now())
	req := intakeRequest{webhookID: r.Header.Get("webhook-id"), verified: err == nil, header: r.Header.Clone(), body: body}
	var probe struct{ Type string }
	json.Unmarshal(body, &probe)
	req.batch = probe.Type == delivery.BatchEventType

	in.mu.Lock()
	announce, hide, status, answer, gate := in.announce, in.hide, in.status, in.answer, in.gate
	results, omit := maps(in.results), maps(in.omit)
	in.mu.Unlock()
	max := announcedBatch(announce)
	var ans *delivery.BatchAnswer
	if req.batch {
		var b delivery.Batch
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err := dec.Decode(&b)
		for _, d := range b.Data.Deliveries {
			req.ids = append(req.ids, d.ID)
		}
		switch {
		case err != nil:
			req.refused = err.Error()
		case max < 2:
			req.refused = "a batch to an intake that did not announce batches"
		case len(b.Data.Deliveries) > max:
			req.refused = fmt.Sprintf("%d reports in a batch, more than the %d announced", len(b.Data.Deliveries), max)
		case !req.verified:
			req.refused = "signature"
		}
		ans = &delivery.BatchAnswer{ID: req.webhookID}
		for _, id := range req.ids {
			if omit[id] {
				continue
			}
			res, ok := results[id]
			if !ok {
				res = delivery.BatchResult{Status: 200, Result: "stored"}
			}
			res.ID = id
			ans.Results = append(ans.Results, res)
		}
		// A result for a report not in the batch is ignored.
		ans.Results = append(ans.Results, delivery.BatchResult{ID: uuid.NewString(), Status: 410})
	} else {
		var p delivery.Payload
		json.Unmarshal(body, &p)
		req.ids = []string{p.Data.ID}
	}
	in.mu.Lock()
	in.reqs = append(in.reqs, req)
	in.mu.Unlock()
	if gate != nil {
		<-gate
	}
	switch {
	case req.refused != "":
		http.Error(w, req.refused, http.StatusBadRequest)
		return
	case req.batch && status != 0:
		w.WriteHeader(status)
		return
	case !req.batch && results[req.ids[0]].Status != 0:
		w.WriteHeader(results[req.ids[0]].Status)
		return
	}
	if announce != "" && !hide {
		w.Header().Set(delivery.BatchHeader, announce)
	}
	if !req.batch {
		return
	}
	if answer == nil {
		answer, _ = json.Marshal(ans)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(answer)
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// set changes the intake's behaviour under its lock.
func (in *batchIntake) set(change func(in *batchIntake)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	change(in)
}

// requests returns the requests received since the last call.
func (in *batchIntake) requests() []intakeRequest {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.reqs
	in.reqs = nil
	return r
}

// setupBatch returns a forwarder with 32 workers delivering to an
// intake of concurrency 32 that announces batches as told (so a batch
// holds at most min(announce, 32) reports, four batches at once).
func setupBatch(t *testing.T, announce string) (*Forwarder, *batchIntake, *spool.Spool, *counts) {
	t.Helper()
	var in *batchIntake
	c := &counts{}
	f, sp := newForwarder(t, 32, c, func(v *delivery.Verifier) http.Handler {
		in = &batchIntake{verifier: v, announce: announce}
		return in
	})
	return f, in, sp, c
}

// putN puts n reports, received a second apart ending a minute ago, and
// returns their ids in that order.
func putN(t *testing.T, sp *spool.Spool, n int) []string {
	t.Helper()
	ids := make([]string, n)
	start := time.Now().Add(-time.Minute - time.Duration(n)*time.Second)
	for i := range ids {
		ids[i] = uuid.NewString()
		put(t, sp, ids[i], start.Add(time.Duration(i)*time.Second))
	}
	return ids
}

// deliverOnce makes one pass: it starts every due delivery there is room
// for, and waits for them.
func deliverOnce(t *testing.T, f *Forwarder) {
	t.Helper()
	if _, err := f.deliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// learnBatches delivers one report alone, so that the forwarder learns
// what the intake announces in its answer.
func learnBatches(t *testing.T, f *Forwarder, in *batchIntake, sp *spool.Spool) {
	t.Helper()
	putN(t, sp, 1)
	deliverOnce(t, f)
	if r := in.requests(); len(r) != 1 || r[0].batch {
		t.Fatalf("one due report: the intake received %d requests (%+v), want one single delivery", len(r), r)
	}
}

// kinds counts the batches and single deliveries among reqs, and returns
// every report id they carried.
func kinds(reqs []intakeRequest) (batches, singles int, ids []string) {
	for _, r := range reqs {
		if r.batch {
			batches++
		} else {
			singles++
		}
		ids = append(ids, r.ids...)
	}
	return batches, singles, ids
}

func sameIDs(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

func gone(t *testing.T, sp *spool.Spool, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := sp.Get(id); !errors.Is(err, spool.ErrNotFound) {
			t.Errorf("report %s is still in the spool (%v)", id, err)
		}
	}
}

// An intake that does not announce batches, or announces something that
// is no batch size, gets single deliveries only, however many reports are
// due at once.
func TestBatchNeverUnannounced(t *testing.T) {
	for _, announce := range []string{"", "1", "0", "-4", "many", "8 reports"} {
		t.Run(strconv.Quote(announce), func(t *testing.T) {
			f, in, sp, c := setupBatch(t, announce)
			learnBatches(t, f, in, sp)
			ids := putN(t, sp, 12)
			deliverOnce(t, f)
			reqs := in.requests()
			batches, singles, got := kinds(reqs)
			if batches != 0 || singles != 12 || !sameIDs(got, ids) {
				t.Fatalf("the intake received %d batches and %d single deliveries of %v, want 12 singles of %v", batches, singles, got, ids)
			}
			gone(t, sp, ids...)
			if n := c.count(metrics.Batches, "h1"); n != 0 {
				t.Errorf("%d batches counted", n)
			}
		})
	}
}

// An intake that announces batches in a single delivery's answer gets the
// reports due together in batches of at most what it announced, each
// signed, with a fresh webhook-id and only the reports' delivered fields;
// a report due alone still goes alone.
func TestBatchLearnedFromSingle(t *testing.T) {
	f, in, sp, c := setupBatch(t, "4")
	learnBatches(t, f, in, sp)

	ids := putN(t, sp, 7)
	deliverOnce(t, f)
	reqs := in.requests()
	batches, singles, got := kinds(reqs)
	if batches != 2 || singles != 0 || !sameIDs(got, ids) {
		t.Fatalf("7 due reports, 4 announced: the intake received %d batches and %d singles of %v, want 2 batches of %v", batches, singles, got, ids)
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		if len(r.ids) > 4 || r.refused != "" || !r.verified {
			t.Errorf("batch of %d reports: refused %q, signature verified %v", len(r.ids), r.refused, r.verified)
		}
		if _, err := uuid.Parse(r.webhookID); err != nil || seen[r.webhookID] || slices.Contains(ids, r.webhookID) {
			t.Errorf("batch webhook-id %q: want a fresh UUID that is no report id", r.webhookID)
		}
		seen[r.webhookID] = true
		checkBatchFields(t, r)
	}
	gone(t, sp, ids...)
	if n := c.count(metrics.Batches, "h1"); n != 2 {
		t.Errorf("%d batches counted, want 2", n)
	}
	if n := c.count(metrics.Delivered, "h1"); n != 8 {
		t.Errorf("%d reports counted as delivered, want 8", n)
	}

	putN(t, sp, 1)
	deliverOnce(t, f)
	if r := in.requests(); len(r) != 1 || r[0].batch {
		t.Errorf("one due report after batches: the intake received %+v, want one single delivery", r)
	}
}

// checkBatchFields checks that a batch holds its type, its attempt's time
// and its reports' delivered fields, and nothing else: nothing about the
// reporter, nor the relay's state of a report.
func checkBatchFields(t *testing.T, r intakeRequest) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		t.Fatal(err)
	}
	var b struct {
		Type      string
		Timestamp time.Time
		Data      map[string][]map[string]json.RawMessage
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if len(top) != 3 || b.Type != delivery.BatchEventType || time.Since(b.Timestamp) > time.Minute || len(b.Data) != 1 {
		t.Errorf("batch body %s: want type %s, the attempt's time and data only", r.body, delivery.BatchEventType)
	}
	for _, d := range b.Data["deliveries"] {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range d {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"envelope", "hotline", "id", "received", "site"}) {
			t.Errorf("a delivery in a batch has the fields %v, want those of delivery.Data only", keys)
		}
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("a batch carries %s: %s", h, v)
		}
	}
}

// An intake that stops announcing batches in a 2xx answer gets single
// deliveries from then on.
func TestBatchUnlearned(t *testing.T) {
	f, in, sp, _ := setupBatch(t, "8")
	learnBatches(t, f, in, sp)
	putN(t, sp, 3)
	in.set(func(in *batchIntake) { in.hide = true })
	deliverOnce(t, f)
	if b, s, _ := kinds(in.requests()); b != 1 || s != 0 {
		t.Fatalf("3 due reports after the intake announced 8: %d batches and %d singles, want 1 batch", b, s)
	}
	ids := putN(t, sp, 3)
	deliverOnce(t, f)
	if b, s, _ := kinds(in.requests()); b != 0 || s != 3 {
		t.Fatalf("3 due reports after an answer without the header: %d batches and %d singles, want 3 singles", b, s)
	}
	gone(t, sp, ids...)
}

// Each report of a batch is removed or retried as its own result says, as
// if it had been delivered alone with that answer; one without a result,
// and every one of a batch answered without results, is a failed attempt.
func TestBatchPerReportOutcomes(t *testing.T) {
	f, in, sp, c := setupBatch(t, "8")
	learnBatches(t, f, in, sp)
	ids := putN(t, sp, 5)
	stored, duplicate, tampered, unavailable, missing := ids[0], ids[1], ids[2], ids[3], ids[4]
	in.set(func(in *batchIntake) {
		in.results = map[string]delivery.BatchResult{
			duplicate: {Status: 200, Result: "duplicate"},
			tampered: {Status: 422, Problem: &delivery.BatchProblem{Type: "https://reportline.dev/problems/tampered",
				Title: "Delivery refused", Status: 422}},
			unavailable: {Status: 503, Problem: &delivery.BatchProblem{Type: "https://reportline.dev/problems/store-unavailable",
				Title: "Store unavailable", Status: 503}},
		}
		in.omit = map[string]bool{missing: true}
	})
	deliverOnce(t, f)
	if b, s, _ := kinds(in.requests()); b != 1 || s != 0 {
		t.Fatalf("%d batches and %d singles, want 1 batch", b, s)
	}
	gone(t, sp, stored, duplicate)
	for id, want := range map[string]string{
		tampered:    "intake answered 422 (https://reportline.dev/problems/tampered)",
		unavailable: "intake answered 503 (https://reportline.dev/problems/store-unavailable)",
		missing:     errNoResult.Error(),
	} {
		e, err := sp.Get(id)
		if err != nil || e.Attempts != 1 || e.LastError != want || e.Dead || !e.NextAttempt.After(time.Now()) {
			t.Errorf("report %s after the batch: %+v, %v; want a failed attempt, %q, rescheduled", id, e, err, want)
		}
	}
	if n := c.count(metrics.Retries, "h1"); n != 3 {
		t.Errorf("%d retries counted, want 3", n)
	}

	// An answer that is not the batch's results fails every report.
	for name, body := range map[string][]byte{
		"not JSON":           []byte("<html>stored</html>"),
		"another batch's":    []byte(`{"id":"0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012","results":[]}`),
		"larger than 1 MiB":  []byte(`{"pad":"` + strings.Repeat("x", maxBatchAnswer) + `"}`),
		"results not a list": []byte(`{"results":{}}`),
	} {
		t.Run(name, func(t *testing.T) {
			ids := putN(t, sp, 3)
			in.set(func(in *batchIntake) { in.answer = body })
			deliverOnce(t, f)
			if b, _, _ := kinds(in.requests()); b != 1 {
				t.Fatalf("%d batches, want 1", b)
			}
			for _, id := range ids {
				e, err := sp.Get(id)
				if err != nil || e.Attempts != 1 || !strings.HasPrefix(e.LastError, "the intake's answer to the batch is not its results") {
					t.Errorf("report %s: %+v, %v; want a failed attempt", id, e, err)
				}
			}
		})
	}
}

// A batch answered 400, 413 or 415 fails each of its reports and makes
// the relay send that intake single deliveries, with one warning, until
// its configuration is reloaded; another failure, such as 503, does not.
func TestBatchRefused(t *testing.T) {
	for _, status := range []int{400, 413, 415, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f, in, sp, _ := setupBatch(t, "8")
			var logs bytes.Buffer
			f.Log = slog.New(slog.NewTextHandler(&logs, nil))
			learnBatches(t, f, in, sp)
			ids := putN(t, sp, 16)
			in.set(func(in *batchIntake) { in.status = status })
			deliverOnce(t, f)
			if b, s, _ := kinds(in.requests()); b != 2 || s != 0 {
				t.Fatalf("16 due reports: %d batches and %d singles, want 2 batches", b, s)
			}
			for _, id := range ids {
				e, err := sp.Get(id)
				if want := "intake answered " + strconv.Itoa(status); err != nil || e.LastError != want || e.Attempts != 1 {
					t.Errorf("report %s: %+v, %v; want a failed attempt, %q", id, e, err, want)
				}
				if err := sp.Reschedule(id, time.Now().Add(-time.Second), "due again"); err != nil {
					t.Fatal(err)
				}
			}
			refused := status != 503
			if n := strings.Count(logs.String(), "the intake refused a batch"); n != map[bool]int{true: 1, false: 0}[refused] {
				t.Errorf("%d warnings that batches are refused, want one if refused (%v):\n%s", n, refused, logs.String())
			}

			in.set(func(in *batchIntake) { in.status = 0 })
			deliverOnce(t, f)
			b, s, _ := kinds(in.requests())
			if refused && (b != 0 || s != 16) || !refused && (b != 2 || s != 0) {
				t.Fatalf("after a %d to a batch: %d batches and %d singles", status, b, s)
			}
			gone(t, sp, ids...)
			if !refused {
				return
			}

			// A reload forgets both the refusal and the announcement: the
			// next 2xx answer tells anew.
			f.SetEndpoints(map[string]Endpoint{"h1": f.endpoints["h1"].Endpoint})
			ids = putN(t, sp, 3)
			deliverOnce(t, f)
			if b, s, _ := kinds(in.requests()); b != 0 || s != 3 {
				t.Fatalf("first pass after a reload: %d batches and %d singles, want 3 singles", b, s)
			}
			ids = putN(t, sp, 3)
			deliverOnce(t, f)
			if b, s, _ := kinds(in.requests()); b != 1 || s != 0 {
				t.Fatalf("after a reload and an answer announcing batches: %d batches and %d singles, want 1 batch", b, s)
			}
			gone(t, sp, ids...)
		})
	}
}

// A batch answered 410 Gone moves each of its reports to the dead-letter
// area and stops delivery to the hotline.
func TestBatchGone(t *testing.T) {
	f, in, sp, c := setupBatch(t, "8")
	learnBatches(t, f, in, sp)
	ids := putN(t, sp, 5)
	in.set(func(in *batchIntake) { in.status = http.StatusGone })
	deliverOnce(t, f)
	if b, _, _ := kinds(in.requests()); b != 1 {
		t.Fatalf("%d batches, want 1", b)
	}
	for _, id := range ids {
		if e, err := sp.Get(id); err != nil || !e.Dead {
			t.Errorf("report %s after a 410 to its batch: %+v, %v; want it in the dead-letter area", id, e, err)
		}
	}
	if g := c.gauge(metrics.IntakeStopped, "h1"); g != 1 {
		t.Errorf("intake_stopped = %v, want 1", g)
	}
	later := putN(t, sp, 3)
	deliverOnce(t, f)
	if r := in.requests(); len(r) != 0 {
		t.Errorf("a stopped intake received %d more requests", len(r))
	}
	for _, id := range later {
		if e, err := sp.Get(id); err != nil || e.Dead || e.Attempts != 1 {
			t.Errorf("report %s for a stopped intake: %+v, %v; want it rescheduled", id, e, err)
		}
	}
}

// Urgent reports go first in batches as they do alone: with room for 4
// reports, the urgent one, due last, goes in the first batch, first.
func TestBatchUrgentFirst(t *testing.T) {
	f, in, sp, _ := setupBatch(t, "8")
	f.Workers = 4
	learnBatches(t, f, in, sp)
	backlog := putN(t, sp, 6)
	urgent := uuid.NewString()
	if _, _, err := sp.Put(spool.Entry{ID: urgent, Hotline: "h1", Site: "s1", Received: time.Now().Add(-time.Second),
		Body: []byte("age-envelope-" + urgent), Urgent: true}); err != nil {
		t.Fatal(err)
	}
	deliverOnce(t, f)
	reqs := in.requests()
	if len(reqs) != 1 || !reqs[0].batch || len(reqs[0].ids) != 4 || reqs[0].ids[0] != urgent {
		t.Fatalf("with room for 4: the intake received %+v, want one batch of 4 starting with the urgent report %s", reqs, urgent)
	}
	deliverOnce(t, f)
	deliverOnce(t, f)
	gone(t, sp, append(backlog, urgent)...)
}

// A batch holds a worker and a slot at its endpoint per report, as long
// as single deliveries of its reports would.
func TestBatchHoldsASlotPerReport(t *testing.T) {
	f, in, sp, _ := setupBatch(t, "8")
	f.Workers = 64
	// Batches of at most 4, and room for four of them: 16 reports.
	f.SetEndpoints(map[string]Endpoint{"h1": func() Endpoint { ep := f.endpoints["h1"].Endpoint; ep.Concurrency = 4; return ep }()})
	learnBatches(t, f, in, sp)
	gate := make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(open) // before the intake's server closes, which waits for its answers
	in.set(func(in *batchIntake) { in.gate = gate })
	ids := putN(t, sp, 20)
	if _, err := f.dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "16 reports to reach the intake", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		_, _, ids := kinds(in.reqs)
		return len(ids) == 16
	})
	f.mu.Lock()
	active, slots := f.active, f.endpoints["h1"].active
	f.mu.Unlock()
	if active != 16 || slots != 16 {
		t.Errorf("4 batches of 4 under way hold %d workers and %d endpoint slots, want 16 each", active, slots)
	}
	if _, err := f.dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	open()
	f.Wait()
	reqs := in.requests()
	if b, s, _ := kinds(reqs); b != 4 || s != 0 {
		t.Fatalf("with 16 slots: %d batches and %d singles, want 4 batches of 4 and nothing more", b, s)
	}
	for _, r := range reqs {
		if len(r.ids) != 4 {
			t.Errorf("a batch of %d reports, want 4 (the concurrency)", len(r.ids))
		}
	}
	deliverOnce(t, f)
	gone(t, sp, ids...)
}

func TestAnnouncedBatch(t *testing.T) {
	for v, want := range map[string]int{"": 0, "x": 0, "-2": 0, "0": 0, "1": 0, "2": 2, " 32 ": 32, "256": 256, "257": 256,
		"99999999999999999999": 0, "0x10": 0, "8;q=1": 0} {
		if got := announcedBatch(v); got != want {
			t.Errorf("announcedBatch(%q) = %d, want %d", v, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ n, max int }{{2, 8}, {8, 8}, {9, 8}, {17, 8}, {7, 4}, {3, 2}, {64, 8}} {
		es := make([]spool.Entry, c.n)
		for i := range es {
			es[i].ID = strconv.Itoa(i)
		}
		parts := split(es, c.max)
		var got []string
		for _, p := range parts {
			if len(p) > c.max || len(p) < len(parts[0])-1 {
				t.Errorf("split(%d, %d): a part of %d after one of %d", c.n, c.max, len(p), len(parts[0]))
			}
			for _, e := range p {
				got = append(got, e.ID)
			}
		}
		if want := (c.n + c.max - 1) / c.max; len(parts) != want || len(got) != c.n || !slices.IsSortedFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y }) {
			t.Errorf("split(%d, %d) = %d parts of %v, want %d parts holding them in order", c.n, c.max, len(parts), got, want)
		}
	}
}

// FuzzBatchResults: whatever an intake answers a batch, each of its
// reports gets exactly one answer, a status that one of the answer's
// results gave it (the first valid one) or a failed attempt.
func FuzzBatchResults(f *testing.F) {
	fuzzseed.Require(f)
	const batch = "0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012"
	ids := []string{"3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", "9c1e5d2a-1b3c-4d5e-8f90-a1b2c3d4e5f6", "5b7d0e1f-2a3b-4c5d-9e8f-0a1b2c3d4e5f"}
	f.Fuzz(func(t *testing.T, body []byte) {
		as := batchResults(batch, ids, body)
		if len(as) != len(ids) {
			t.Fatalf("%d answers for %d reports", len(as), len(ids))
		}
		var ba delivery.BatchAnswer
		parsed := json.Unmarshal(body, &ba) == nil && ba.ID == batch && len(body) <= maxBatchAnswer
		for i, a := range as {
			if a.err != nil {
				if a.status != 0 || !errors.Is(a.err, errNoResult) && !strings.HasPrefix(a.err.Error(), "the intake's answer to the batch is not its results") {
					t.Fatalf("report %d: status %d with error %v", i, a.status, a.err)
				}
				if parsed != errors.Is(a.err, errNoResult) {
					t.Fatalf("report %d: %v for an answer that parses: %v", i, a.err, parsed)
				}
				continue
			}
			if !parsed || a.status < 100 || a.status > 599 || len(a.problem) > maxProblemType {
				t.Fatalf("report %d: status %d, problem %q from an answer that parses: %v", i, a.status, a.problem, parsed)
			}
			first := slices.IndexFunc(ba.Results, func(r delivery.BatchResult) bool {
				return r.ID == ids[i] && r.Status >= 100 && r.Status <= 599
			})
			if first < 0 || ba.Results[first].Status != a.status {
				t.Fatalf("report %d: status %d, not that of its first valid result (%d)", i, a.status, first)
			}
		}
	})
}

// A 2xx other than 200 to a batch, which carries no results, applies to
// each of its reports as any answer to the batch itself does: each is
// delivered and removed.
func TestBatchAnswered2xxWithoutResults(t *testing.T) {
	f, in, sp, c := setupBatch(t, "8")
	learnBatches(t, f, in, sp)
	ids := putN(t, sp, 5)
	in.set(func(in *batchIntake) { in.status = http.StatusAccepted })
	deliverOnce(t, f)
	if b, s, _ := kinds(in.requests()); b != 1 || s != 0 {
		t.Fatalf("%d batches and %d singles, want 1 batch", b, s)
	}
	gone(t, sp, ids...)
	if n := c.count(metrics.Delivered, "h1"); n != 6 {
		t.Errorf("%d reports counted as delivered, want 6", n)
	}
}

// wrappedStore is the spool as the relay's command holds it: in a struct
// of its own behind the Store interface, so that only Store's methods are
// seen. It counts the reports removed one by one.
type wrappedStore struct {
	Store
	singles atomic.Int64
}

func (w *wrappedStore) Delete(id string) error {
	w.singles.Add(1)
	return w.Store.Delete(id)
}

// TestRemovalThroughAWrappedStore: delivered reports are removed
// together, in one write, also when the spool reaches the forwarder
// wrapped as the relay's command wraps it. (Seen through such a wrapper,
// the spool once lost its batched removal: each delivered report took a
// write and an fsync of its own, and the drain ran at a third of its
// rate.)
func TestRemovalThroughAWrappedStore(t *testing.T) {
	f, in, sp, _ := setupBatch(t, "32")
	w := &wrappedStore{Store: sp}
	f.Spool = w
	learnBatches(t, f, in, sp)
	putN(t, sp, 64)
	for range 64 {
		if st, err := sp.Stats(); err != nil || st.Pending == 0 {
			break
		}
		deliverOnce(t, f)
	}
	if st, err := sp.Stats(); err != nil || st.Pending != 0 {
		t.Fatalf("after delivering: %+v, %v", st, err)
	}
	if n := w.singles.Load(); n != 0 {
		t.Errorf("%d of 65 delivered reports were removed one by one, want all removed together", n)
	}
}

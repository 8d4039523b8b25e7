package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
)

// Batched deliveries, as docs/delivery.md specifies them ("Batched
// deliveries"): an intake that announces delivery.BatchHeader in its 2xx
// answers gets the reports that fall due together in one signed request,
// which shares the HTTP exchange, the signature and its verification, and
// the intake's flushes. Each report of a batch holds a worker and a slot
// at its endpoint as a single delivery does, and its outcome is recorded
// as if it had been delivered alone.

// batchesAtOnce is how many full batches may be under way at once to an
// endpoint: a batch holds as many reports as the hotline's concurrency
// (at most what its intake announced), and the endpoint then has room for
// this many times as many reports as requests. With one batch at a time
// the intake would open one batch's reports while its disk idles, and
// flush them while its CPUs idle; four keep both busy (docs/benchmarks.md,
// "Batched deliveries from the relay, and their size").
const batchesAtOnce = 4

// maxBatchAnswer bounds the answer to a batch the relay reads: a result
// is some hundred bytes, so this is room for delivery.MaxBatch results
// with long problem details.
const maxBatchAnswer = 1 << 20

// maxProblemType bounds the problem type of a result kept in a report's
// last error.
const maxProblemType = 200

// errNoResult is a report of a batch that the intake's answer gave no
// result for: a failed attempt.
var errNoResult = errors.New("the intake's answer to the batch has no result for the report")

// announcedBatch reads a delivery.BatchHeader value: the most reports a
// batch may hold, capped at delivery.MaxBatch, or 0 (no batches) if it is
// missing, not a number, or less than 2.
func announcedBatch(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 2 {
		return 0
	}
	return min(n, delivery.MaxBatch)
}

// batchSize is how many reports one batch to the endpoint may hold now:
// 0 or 1 means single deliveries only. f.mu is held.
func (st *endpointState) batchSize() int {
	if st.refused || st.announced < 2 {
		return 0
	}
	return min(st.announced, max(2, st.Concurrency))
}

// capacity is how many reports may be under way to the endpoint at once:
// its concurrency, one report per request, or, while it takes batches,
// batchesAtOnce full batches. f.mu is held.
func (st *endpointState) capacity() int {
	if n := st.batchSize(); n >= 2 {
		return batchesAtOnce * n
	}
	return max(st.Concurrency, 1)
}

// learn keeps what a 2xx answer announced in delivery.BatchHeader: the
// last 2xx answer of an intake says whether it takes batches.
func (f *Forwarder) learn(st *endpointState, status int, h http.Header) {
	if status < 200 || status >= 300 {
		return
	}
	n := announcedBatch(h.Get(delivery.BatchHeader))
	f.mu.Lock()
	st.announced = n
	f.mu.Unlock()
}

// refuse sends the endpoint single deliveries until SetEndpoints: it
// answered a batch as one it cannot take, although it announced batches.
func (f *Forwarder) refuse(st *endpointState, hotline string, status int) {
	f.mu.Lock()
	first := !st.refused
	st.refused = true
	f.mu.Unlock()
	if first {
		f.Log.Warn("the intake refused a batch although it announced batches: its reports are sent singly until the relay's configuration is reloaded",
			"hotline", hotline, "status", status)
	}
}

// split cuts es, in order, into as few parts of at most n reports as it
// takes, of sizes as even as can be.
func split(es []spool.Entry, n int) [][]spool.Entry {
	k := (len(es) + n - 1) / n
	parts := make([][]spool.Entry, 0, k)
	for i := range k {
		size := len(es) / (k - i)
		if len(es)%(k-i) != 0 {
			size++
		}
		parts = append(parts, es[:size])
		es = es[size:]
	}
	return parts
}

// startBatch starts the delivery of reports of one endpoint in one
// batch. f.mu is held, and each report already holds its worker and
// endpoint slot.
func (f *Forwarder) startBatch(ctx context.Context, es []spool.Entry, st *endpointState) {
	ep := st.Endpoint
	f.wg.Add(len(es))
	go func() {
		releases := make([]func(), len(es))
		for i := range releases {
			releases[i] = sync.OnceFunc(func() { f.release(st, false) })
		}
		removing := f.deliverBatch(ctx, es, ep, st, func() {
			for _, r := range releases {
				r()
			}
		})
		for i, e := range es {
			f.finish(e.ID, releases[i], removing[i])
		}
	}()
}

// deliverBatch makes one attempt at delivering reports in one batch, and
// records each report's outcome as deliver does. It reports which of them
// were delivered and handed to remove.
func (f *Forwarder) deliverBatch(ctx context.Context, es []spool.Entry, ep Endpoint, st *endpointState, release func()) []bool {
	id := uuid.NewString()
	as := f.postBatch(ctx, ep, st, id, es)
	release()
	removing := make([]bool, len(es))
	for i, e := range es {
		log := f.Log.With("report", e.ID, "hotline", e.Hotline, "attempt", e.Attempts+1, "batch", id)
		removing[i] = f.outcome(log, e, ep, st, as[i])
	}
	return removing
}

// postBatch sends reports as the batch id and returns the answer for each
// of them.
func (f *Forwarder) postBatch(ctx context.Context, ep Endpoint, st *endpointState, id string, es []spool.Entry) []answer {
	all := func(a answer) []answer {
		as := make([]answer, len(es))
		for i := range as {
			as[i] = a
		}
		return as
	}
	now := f.now()
	b := delivery.Batch{Type: delivery.BatchEventType, Timestamp: now.UTC(), Data: delivery.BatchData{Deliveries: make([]delivery.Data, len(es))}}
	ids := make([]string, len(es))
	for i, e := range es {
		b.Data.Deliveries[i] = data(e)
		ids[i] = e.ID
	}
	body, err := json.Marshal(b)
	if err != nil {
		return all(answer{err: fmt.Errorf("failed to encode batch: %w", err)})
	}
	f.Metrics.Inc(metrics.Batches, es[0].Hotline)
	status, h, raw, err := f.exchange(ctx, ep, id, now, body, maxBatchAnswer+1)
	if err != nil {
		return all(answer{err: err})
	}
	f.learn(st, status, h)
	retryAfter := parseRetryAfter(h.Get("Retry-After"), now)
	if status != http.StatusOK {
		switch status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			f.refuse(st, es[0].Hotline, status)
		}
		return all(answer{status: status, retryAfter: retryAfter})
	}
	as := batchResults(id, ids, raw)
	for i := range as {
		as[i].retryAfter = retryAfter
	}
	return as
}

// batchResults reads the intake's 200 answer to the batch id of the
// reports ids (a delivery.BatchAnswer), and returns the answer for each
// report: its result's status and problem type, or a failed attempt if
// it has no result or the body is not such an answer. Results for ids not
// in the batch are ignored; of two for one report, the first counts.
func batchResults(id string, ids []string, body []byte) []answer {
	as := make([]answer, len(ids))
	fail := func(err error) []answer {
		for i := range as {
			as[i] = answer{err: err}
		}
		return as
	}
	if len(body) > maxBatchAnswer {
		return fail(fmt.Errorf("the intake's answer to the batch is not its results: larger than %d bytes", maxBatchAnswer))
	}
	var ba delivery.BatchAnswer
	if err := json.Unmarshal(body, &ba); err != nil {
		return fail(fmt.Errorf("the intake's answer to the batch is not its results: %w", err))
	}
	if ba.ID != id {
		return fail(fmt.Errorf("the intake's answer to the batch is not its results: it answers batch %.40q", ba.ID))
	}
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
		as[i] = answer{err: errNoResult}
	}
	for _, r := range ba.Results {
		i, ok := index[r.ID]
		if !ok || r.Status < 100 || r.Status > 599 {
			continue
		}
		delete(index, r.ID)
		as[i] = answer{status: r.Status}
		if r.Problem != nil {
			as[i].problem = r.Problem.Type[:min(len(r.Problem.Type), maxProblemType)]
		}
	}
	return as
}

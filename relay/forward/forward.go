// Package forward delivers stored reports from the relay's spool to each
// hotline's intake, signed per Standard Webhooks, as specified in
// docs/delivery.md.
//
// Delivery is at least once: a report leaves the spool only after the
// intake answered 2xx, and the intake de-duplicates by report id, so each
// report lands exactly once. Failures are retried with exponential backoff
// and jitter; a report that cannot be delivered within the configured age,
// or whose endpoint answered 410 Gone, moves to the dead-letter area.
package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
)

// Forwarder moves reports from the spool to the hotlines. Set its
// endpoints with [Forwarder.SetEndpoints] before Run, and again after a
// configuration reload.
type Forwarder struct {
	Spool Store
	Log   *slog.Logger
	// Metrics, if set, counts deliveries, retries, dead letters and alarms,
	// and observes how long each delivered report waited.
	Metrics metrics.Recorder
	// MinBackoff is the delay after the first failure; it doubles with each
	// further failure up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxAge is how long after acceptance a report is retried before it is
	// moved to the dead-letter area.
	MaxAge time.Duration
	// Workers is how many deliveries run at once, over all hotlines; each
	// endpoint's Concurrency bounds its own share.
	Workers int
	// Now, if set, replaces time.Now for signing deliveries, for tests.
	Now func() time.Time

	initOnce sync.Once
	wake     chan struct{}

	mu        sync.Mutex
	endpoints map[string]*endpointState // by hotline id
	inflight  map[string]bool           // report ids being delivered
	held      map[string]time.Time      // report ids not to try before a time
	removals  chan delivered            // delivered reports to remove from the spool
	errs      errorLog
	active    int
	wg        sync.WaitGroup

	corruptSeen map[string]bool // corrupt records logged, by Run only
}

// Store is what the forwarder needs of the spool; [spool.Spool] is one.
type Store interface {
	DueSkipping(now time.Time, limit int, skipID, skipHotline func(string) bool) ([]spool.Entry, error)
	NextDue() (time.Time, bool, error)
	Delete(id string) error
	// DeleteAll removes delivered reports together, in one write where
	// the store can, passing over those no longer pending, and reports
	// how many it removed. It is part of Store, not a method the
	// forwarder looks for, so that a store wrapped in another type keeps
	// it.
	DeleteAll(ids []string) (int, error)
	Reschedule(id string, next time.Time, lastErr string) error
	// Bury moves a report whose attempt just failed for good to the
	// dead-letter area, and counts that attempt, as Reschedule does.
	Bury(id string, reason string) error
}

// endpointState is an endpoint and what the forwarder knows about it.
type endpointState struct {
	Endpoint
	active int  // deliveries under way
	gone   bool // the intake answered 410 Gone; cleared by SetEndpoints
	// announced is the batch size the intake's last 2xx answer announced
	// in delivery.BatchHeader, 0 if none; refused is set once it answered
	// a batch 400, 413 or 415. Both are forgotten by SetEndpoints.
	announced int
	refused   bool
}

func (f *Forwarder) init() {
	f.initOnce.Do(func() {
		f.wake = make(chan struct{}, 1)
		f.mu.Lock()
		if f.endpoints == nil {
			f.endpoints = map[string]*endpointState{}
		}
		f.inflight = map[string]bool{}
		f.corruptSeen = map[string]bool{}
		f.held = map[string]time.Time{}
		f.removals = make(chan delivered, maxRemovals)
		go f.remove()
		f.mu.Unlock()
		if f.Metrics == nil {
			f.Metrics = metrics.Discard
		}
	})
}

// SetEndpoints replaces the endpoints, keyed by hotline id. Deliveries
// under way finish with the endpoint they started with. It also resumes
// delivery to every endpoint stopped after a 410 Gone: reloading the
// configuration is how an operator says the intake is fixed.
func (f *Forwarder) SetEndpoints(eps map[string]Endpoint) {
	f.init()
	f.mu.Lock()
	next := make(map[string]*endpointState, len(eps))
	var old []*http.Client
	for id, ep := range eps {
		st := &endpointState{Endpoint: ep}
		if prev, ok := f.endpoints[id]; ok {
			st.active = prev.active
			if prev.Client != ep.Client && prev.Client != nil {
				old = append(old, prev.Client)
			}
		}
		next[id] = st
		f.Metrics.Set(metrics.IntakeStopped, id, 0)
	}
	for id, prev := range f.endpoints {
		if _, ok := next[id]; !ok && prev.Client != nil {
			old = append(old, prev.Client)
		}
	}
	f.endpoints = next
	f.mu.Unlock()
	for _, c := range old {
		c.CloseIdleConnections()
	}
	f.Notify()
}

// Notify wakes the forwarder after a report was stored.
func (f *Forwarder) Notify() {
	f.init()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then waits for the deliveries under way
// to finish, each bounded by its endpoint's client timeout.
func (f *Forwarder) Run(ctx context.Context) {
	f.init()
	for ctx.Err() == nil {
		wait, err := f.dispatch(ctx)
		if err != nil {
			f.Log.Error("failed to read the spool", "err", err)
			wait = 10 * time.Second
		}
		f.reportCorrupt()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
	}
	f.wg.Wait()
}

// reportCorrupt logs, once each, the reports whose records the store
// passed over because they no longer decode.
func (f *Forwarder) reportCorrupt() {
	c, ok := f.Spool.(interface{ Corrupt() map[string]string })
	if !ok {
		return
	}
	for id, why := range c.Corrupt() {
		if f.corruptSeen[id] {
			continue
		}
		f.corruptSeen[id] = true
		f.Log.Error("ALARM: a report's record in the spool is corrupt; it is passed over and the other reports are delivered: see docs/deployment.md#a-damaged-spool",
			"report", id, "err", why)
	}
}

// Wait blocks until no delivery is under way.
func (f *Forwarder) Wait() { f.wg.Wait() }

// dispatch starts a delivery for each due report whose hotline has a free
// slot, and returns how long to wait before looking again; a finished
// delivery wakes the forwarder sooner.
func (f *Forwarder) dispatch(ctx context.Context) (time.Duration, error) {
	f.init()
	workers := max(f.Workers, 1)
	full, err := f.startDue(ctx, workers)
	if err != nil {
		return 0, err
	}
	if full {
		// A delivery that ends wakes the forwarder.
		return time.Minute, nil
	}
	next, ok, err := f.Spool.NextDue()
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return time.Minute, nil
	case !next.After(time.Now()):
		// Due reports wait for a free slot or are being delivered: look
		// again soon, in case one behind them falls due.
		return time.Second, nil
	}
	return min(time.Until(next)+time.Millisecond, time.Minute), nil
}

// startDue starts a delivery for as many due reports as there are free
// workers, passing over (unread) the reports being delivered, those held
// back, and those whose hotline has no free slot. It reports whether every
// worker is busy.
//
// The spool is read under the lock that finish takes, so a report whose
// delivery ends meanwhile is either still in flight here or already gone
// from the spool, and never started twice.
func (f *Forwarder) startDue(ctx context.Context, workers int) (full bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	free := workers - f.active
	if free <= 0 {
		return true, nil
	}
	// Take no more reports than the endpoints have free slots for, so the
	// walk of the spool ends once they are filled, and, under load, take
	// them in batches: each pass walks past the reports in flight.
	room, capacity := f.room(free)
	limit := min(free, room)
	if limit <= 0 || f.active > 0 && limit < max(1, min(workers, capacity)/4) {
		// A delivery that ends frees a slot and wakes the forwarder.
		return false, nil
	}
	now := time.Now()
	taking := map[string]int{} // by hotline, in this pass
	due, err := f.Spool.DueSkipping(now, limit, func(id string) bool {
		if until, ok := f.held[id]; ok {
			if now.Before(until) {
				return true
			}
			delete(f.held, id)
		}
		return f.inflight[id]
	}, func(hotline string) bool {
		if st := f.endpoints[hotline]; st != nil && !st.gone && st.active+taking[hotline] >= st.capacity() {
			return true
		}
		taking[hotline]++
		return false
	})
	if err != nil {
		return false, err
	}
	// A delivery under way is finished even while shutting down, bounded
	// by the client's timeout.
	ctx = context.WithoutCancel(ctx)
	batches := map[*endpointState][]spool.Entry{}
	var batching []*endpointState // in the order of their first report
	for _, e := range due {
		st := f.endpoints[e.Hotline]
		f.inflight[e.ID] = true
		f.active++
		stopped := st == nil || st.gone
		if !stopped {
			st.active++
			if st.batchSize() >= 2 {
				if batches[st] == nil {
					batching = append(batching, st)
				}
				batches[st] = append(batches[st], e)
				continue
			}
		}
		f.startSingle(ctx, e, st, stopped)
	}
	for _, st := range batching {
		for _, es := range split(batches[st], st.batchSize()) {
			if len(es) == 1 {
				f.startSingle(ctx, es[0], st, false)
			} else {
				f.startBatch(ctx, es, st)
			}
		}
	}
	return f.active >= workers, nil
}

// startSingle starts a delivery of one report, or its rescheduling if
// its endpoint is stopped or missing. f.mu is held.
func (f *Forwarder) startSingle(ctx context.Context, e spool.Entry, st *endpointState, stopped bool) {
	var ep Endpoint
	if !stopped {
		ep = st.Endpoint
	}
	f.wg.Add(1)
	go func() {
		release := sync.OnceFunc(func() { f.release(st, stopped) })
		removing := f.deliver(ctx, e, ep, st, stopped, release)
		f.finish(e.ID, release, removing)
	}()
}

// room returns how many reports the endpoints have free slots for, and
// how many slots they have in all. A stopped endpoint's reports, and those
// of a hotline missing from the configuration, are rescheduled without a
// slot: with a stopped endpoint, or none, room is every free worker.
func (f *Forwarder) room(free int) (room, capacity int) {
	if len(f.endpoints) == 0 {
		return free, free
	}
	for _, st := range f.endpoints {
		n := st.capacity()
		if st.gone {
			return free, free
		}
		capacity += n
		room += max(0, n-st.active)
	}
	return room, capacity
}

// release frees a delivery's slot at its endpoint, once the intake has
// answered: recording the outcome in the spool need not hold the
// endpoint, and the spool groups those writes better when more come at
// once.
func (f *Forwarder) release(st *endpointState, stopped bool) {
	if stopped {
		return
	}
	f.mu.Lock()
	st.active--
	f.mu.Unlock()
	f.Notify()
}

// finish frees a delivery's worker. Unless its report waits to be removed
// from the spool (removing), the delivery is over and the report may be
// read from the spool again; otherwise remove ends it.
func (f *Forwarder) finish(id string, release func(), removing bool) {
	release()
	f.mu.Lock()
	if !removing {
		delete(f.inflight, id)
	}
	f.active--
	f.mu.Unlock()
	if !removing {
		f.wg.Done()
	}
	f.Notify()
}

// delivered is a report the intake acknowledged, waiting to be removed
// from the spool; its body is no longer held.
type delivered struct {
	id, hotline string
	attempt     int
	status      int
	received    time.Time
	acked       time.Time // when the intake answered 2xx
}

// maxRemovals bounds the delivered reports waiting to be removed, and so
// how far delivery runs ahead of the spool when its writes are slow.
const maxRemovals = 1024

// remove removes delivered reports from the spool, as many at once as have
// arrived, in one transaction: delivery is not held up by an fsync per
// report, and a report stays in flight (not read again) until it is gone.
func (f *Forwarder) remove() {
	for first := range f.removals {
		batch := []delivered{first}
	gather:
		for len(batch) < maxRemovals {
			select {
			case d := <-f.removals:
				batch = append(batch, d)
			default:
				break gather
			}
		}
		ids := make([]string, len(batch))
		for i, d := range batch {
			ids[i] = d.id
		}
		_, err := f.Spool.DeleteAll(ids)
		f.mu.Lock()
		for _, d := range batch {
			delete(f.inflight, d.id)
			if err != nil {
				f.held[d.id] = time.Now().Add(f.Backoff(d.attempt))
			}
		}
		f.mu.Unlock()
		if err != nil {
			f.errs.log(f.Log, "delivered, but failed to remove from the spool; it will be delivered again and de-duplicated", err)
		}
		for _, d := range batch {
			if err == nil {
				f.Metrics.Inc(metrics.Delivered, d.hotline)
				f.Metrics.Observe(metrics.DeliveryDelay, d.hotline, d.acked.Sub(d.received))
				f.Log.Info("report delivered", "report", d.id, "hotline", d.hotline, "attempt", d.attempt,
					"status", d.status, "queued", time.Since(d.received).Round(time.Second).String())
			}
			f.wg.Done()
		}
		f.Notify()
	}
}

// deliver makes one attempt at a report, or, if its hotline is unknown or
// stopped, reschedules it without sending. It reports whether the report
// was delivered and handed to remove.
func (f *Forwarder) deliver(ctx context.Context, e spool.Entry, ep Endpoint, st *endpointState, stopped bool, release func()) bool {
	log := f.Log.With("report", e.ID, "hotline", e.Hotline, "attempt", e.Attempts+1)
	if stopped {
		reason := "no such hotline in the configuration"
		if st != nil {
			reason = "delivery to this hotline is stopped: its intake answered 410 Gone; fix intake_url or the intake, then reload the relay"
		}
		f.retry(log, e, reason, 0)
		return false
	}
	a := f.post(ctx, ep, st, e)
	release()
	return f.outcome(log, e, ep, st, a)
}

// answer is what became of one report's attempt: the status the intake
// answered for it, with the type of its problem if known, or err if
// there was no such answer.
type answer struct {
	status     int
	problem    string // the problem type, if the answer said
	retryAfter time.Duration
	err        error
}

// outcome records what became of a report's attempt, delivered alone or
// in a batch: a 2xx hands it to remove, a 410 stops the endpoint and
// buries it, anything else reschedules it. It reports whether the report
// was handed to remove.
func (f *Forwarder) outcome(log *slog.Logger, e spool.Entry, ep Endpoint, st *endpointState, a answer) bool {
	switch {
	case a.err == nil && a.status >= 200 && a.status < 300:
		f.removals <- delivered{id: e.ID, hotline: e.Hotline, attempt: e.Attempts + 1, status: a.status, received: e.Received, acked: time.Now()}
		return true
	case a.err == nil && a.status == http.StatusGone:
		f.gone(log, e, ep, st)
	case a.err != nil:
		f.retry(log, e, a.err.Error(), a.retryAfter)
	default:
		reason := "intake answered " + strconv.Itoa(a.status)
		if a.problem != "" {
			reason += " (" + a.problem + ")"
		}
		if a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
			log.Error("the intake refuses the relay's deliveries: check that it trusts this relay's key (signature "+
				"and hotline id), that the two machines' clocks agree (within the intake's -tolerance, 5 minutes by "+
				"default: run NTP on both) and, with mutual TLS, its client certificate", "status", a.status)
		}
		if a.status == http.StatusBadRequest && strings.HasSuffix(a.problem, "/bad-delivery") {
			log.Error("the intake refuses the relay's deliveries as malformed or not for it: check that its -hotline "+
				"is this hotline's id in the relay's configuration, and that the intake is as new as the relay", "status", a.status)
		}
		if a.status >= 300 && a.status < 400 {
			reason += " (a redirect, which the relay does not follow: set intake_url to the final URL)"
		}
		f.retry(log, e, reason, a.retryAfter)
	}
	return false
}

// gone handles a 410 Gone: the report moves to the dead-letter area, and
// delivery to the endpoint stops until the configuration is reloaded.
func (f *Forwarder) gone(log *slog.Logger, e spool.Entry, ep Endpoint, st *endpointState) {
	f.mu.Lock()
	// Stop only the endpoint that answered, not one a reload put since.
	if cur := f.endpoints[e.Hotline]; cur == st && st.URL == ep.URL {
		st.gone = true
	}
	f.mu.Unlock()
	f.Metrics.Set(metrics.IntakeStopped, e.Hotline, 1)
	f.Metrics.Inc(metrics.Alarms, "intake_gone")
	log.Error("ALARM: the intake answered 410 Gone: delivery to this hotline is stopped and the report moved to the " +
		"dead-letter area; fix the hotline's intake_url or its intake, reload the relay (SIGHUP), then `relay spool retry --all-dead`")
	f.bury(log, e, "intake answered 410 Gone")
}

func (f *Forwarder) bury(log *slog.Logger, e spool.Entry, reason string) {
	if err := f.Spool.Bury(e.ID, reason); err != nil {
		f.hold(e, err)
		f.errs.log(f.Log, "failed to move report to the dead-letter area", err)
		return
	}
	f.Metrics.Inc(metrics.DeadLettered, e.Hotline)
}

func (f *Forwarder) retry(log *slog.Logger, e spool.Entry, reason string, retryAfter time.Duration) {
	if f.MaxAge > 0 && time.Since(e.Received) > f.MaxAge {
		f.Metrics.Inc(metrics.Alarms, "dead_letter")
		log.Error("ALARM: report undeliverable: moved to the dead-letter area; see `relay spool ls`", "reason", reason)
		f.bury(log, e, reason)
		return
	}
	delay := max(f.Backoff(backoffAttempts(e)), retryAfter)
	log.Warn("delivery failed, will retry", "reason", reason, "in", delay.Round(time.Second).String())
	if err := f.Spool.Reschedule(e.ID, time.Now().Add(delay), reason); err != nil {
		f.hold(e, err)
		f.errs.log(f.Log, "failed to reschedule a failed delivery", err)
		return
	}
	f.Metrics.Inc(metrics.Retries, e.Hotline)
}

// hold keeps a report whose attempt the spool failed to record (a full
// disk, say) from being tried again before its backoff, which the spool
// could not store: it would otherwise be due at once, again and again.
func (f *Forwarder) hold(e spool.Entry, err error) {
	f.mu.Lock()
	f.held[e.ID] = time.Now().Add(f.Backoff(backoffAttempts(e)))
	f.mu.Unlock()
}

// backoffAttempts is the count of failures a report's backoff grows with:
// none for an urgent report, which is tried again after MinBackoff however
// often it failed, so that it goes soon after its intake comes back. The
// few urgent reports cost a failing intake little.
func backoffAttempts(e spool.Entry) int {
	if e.Urgent {
		return 0
	}
	return e.Attempts
}

// Backoff returns the delay before the next attempt after the given number
// of earlier attempts: MinBackoff doubled per attempt, capped at MaxBackoff,
// with ±25 % jitter so that many reports do not retry in step.
func (f *Forwarder) Backoff(attempts int) time.Duration {
	d := f.MinBackoff
	for i := 0; i < attempts && d < f.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, f.MaxBackoff)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

// post makes one attempt at delivering a report alone.
func (f *Forwarder) post(ctx context.Context, ep Endpoint, st *endpointState, e spool.Entry) answer {
	now := f.now()
	// The attempt time is sent to the nanosecond: two attempts signed
	// within the same second (a relay restarted after a crash re-sends at
	// once) differ in their signed content, so the intake does not take
	// the second for a replay of the first.
	body, err := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: now.UTC(), Data: data(e)})
	if err != nil {
		return answer{err: fmt.Errorf("failed to encode delivery: %w", err)}
	}
	status, h, b, err := f.exchange(ctx, ep, e.ID, now, body, maxProblemAnswer)
	if err != nil {
		return answer{err: err}
	}
	f.learn(st, status, h)
	a := answer{status: status, retryAfter: parseRetryAfter(h.Get("Retry-After"), now)}
	if (status < 200 || status > 299) && strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
		var p struct{ Type string }
		if json.Unmarshal(b, &p) == nil {
			a.problem = p.Type[:min(len(p.Type), maxProblemType)]
		}
	}
	return a
}

// maxProblemAnswer bounds what is read of the intake's answer to a report
// delivered alone, for the type of its problem: a problem from the intake
// is a few hundred bytes.
const maxProblemAnswer = 4 << 10

// data is the delivered form of a report: what the relay knows of it
// besides its state in the spool, and nothing about the reporter.
func data(e spool.Entry) delivery.Data {
	return delivery.Data{ID: e.ID, Hotline: e.Hotline, Site: e.Site, Received: e.Received, Envelope: e.Body}
}

func (f *Forwarder) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// exchange signs body as webhook-id id at now, posts it to the endpoint,
// and returns the answer's status, its header and up to keep bytes of its
// body.
func (f *Forwarder) exchange(ctx context.Context, ep Endpoint, id string, now time.Time, body []byte, keep int64) (status int, h http.Header, answer []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("failed to make delivery request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reportline-relay")
	if err := delivery.SetHeaders(req.Header, ep.Signer, id, now, body); err != nil {
		return 0, nil, nil, fmt.Errorf("failed to sign delivery: %w", err)
	}
	client := http.Client{}
	if ep.Client != nil {
		client = *ep.Client
	}
	// A redirect would send the report somewhere the configuration does
	// not name: it is answered as a failure instead.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		// The first thing a relay started before its intake logs.
		return 0, nil, nil, fmt.Errorf("failed to reach the intake: nothing listens at the hotline's intake_url "+
			"(start the intake, or fix intake_url): %w", err)
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("failed to reach the intake: %w", err)
	}
	defer resp.Body.Close()
	if keep > 0 {
		answer, err = io.ReadAll(io.LimitReader(resp.Body, keep))
		if err != nil {
			return 0, nil, nil, fmt.Errorf("failed to read the intake's answer: %w", err)
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, answer, nil
}

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date),
// capped at a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, 24*time.Hour))
}

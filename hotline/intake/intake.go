// Package intake is the hotline's side of delivery, as specified in
// docs/delivery.md: it verifies each signed delivery from the relay, keeps
// the envelope atomically in an inbox folder, de-duplicates by report id,
// and opens the report with the hotline's identity.
//
// Inbox layout, one pair of files per report:
//
//	INBOX/<id>.age   the envelope as sealed in the browser (opens with age -d)
//	INBOX/<id>.json  the opened report, with the relay's metadata
//
// A report is stored once both files exist: a store cut short by a failed
// write or a crash is completed by the relay's next attempt.
//
// The intake also takes batched deliveries, of up to [BatchSize] reports,
// which it announces on every 2xx answer: each report of a batch is
// checked and stored as a single delivery of it would be, all of them at
// once, and the answer gives each one's result.
//
// An urgent report (the reporter said a child is in danger right now, or
// that they are being threatened) goes to INBOX/urgent/ instead, where an
// analyst looks first; the intake logs it at warn level and counts it.
//
// A delivery whose envelope is sealed to another number or kind of
// recipients than the hotline's own, does not open with the hotline's
// identity, or holds a report whose id, hotline or site differ from the
// signed delivery's is refused with an [Alarm]: nothing is stored here,
// and the intake's non-2xx answer makes the relay keep the report, where
// `relay spool ls` shows it. It is the sign of a relay whose configuration
// or code was changed (docs/threat-model.md).
package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/httpedge"
	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/internal/quietlog"
	"github.com/reportline/reportline/report"
)

// Intake is the hotline's delivery endpoint.
type Intake struct {
	Verifier   *delivery.Verifier
	Inbox      string
	Identities []age.Identity
	// Hotline is this hotline's id; a report for another is refused, and
	// with none set every delivery is.
	Hotline string
	Form    *report.Form
	Log     *slog.Logger
	// Opened, if set, is called with each newly stored report that opened.
	Opened func(*Opened)
	// Expect are the recipients of the hotline's key statements in
	// force: an envelope sealed to another number or kind of recipients
	// than any of them is refused with an alarm. During a rotation it
	// holds the old statement's and the new one's, so that reports sealed
	// under either arrive. With none set, the identities' own recipients
	// are expected.
	Expect []*report.Recipients
	// Alarm, if set, is called with each report refused with an alarm,
	// once (not again for the relay's further attempts at it): one whose
	// envelope or report does not match the hotline's keys or the signed
	// delivery.
	Alarm func(*Alarm)
	// Now, if set, replaces time.Now, for tests.
	Now func() time.Time

	mu      sync.Mutex         // guards storing
	storing map[string]*idLock // report ids being stored, by id
	dirs    flusher            // of the inbox folder
	urgents flusher            // of the urgent folder
	replay  replayCache
	quiet   quietlog.Limiter // of refusals a sender without a key can cause
	hidden  atomic.Uint64    // reports stored with hidden characters
	urgent  atomic.Uint64    // urgent reports stored
	alarms  atomic.Uint64    // deliveries refused with an alarm
	alarmed alarmedSet       // reports an alarm was raised for
	stored  atomic.Uint64    // reports stored
	dups    atomic.Uint64    // deliveries of a report already stored
	batches atomic.Uint64    // batched deliveries answered 200
	refMu   sync.Mutex
	refused map[string]uint64 // deliveries refused, by problem name
	// expected caches the recipients of Identities (recipientsOf)
	expected atomic.Pointer[identityCache]
	large    atomic.Int64 // bodies larger than a single delivery being held
	maxLarge int          // if set, replaces MaxLargeBodies, for tests
	// stageFile, if set, replaces the writing of each file, for tests.
	stageFile func(path string, data []byte, fl *flusher) (staged, error)
}

// Stats are what an intake counted since it started, for its metrics.
type Stats struct {
	// Stored counts the reports stored; Duplicates the deliveries of a
	// report already stored, answered without writing anything. The
	// reports of a batch count one by one.
	Stored, Duplicates uint64
	// Refused counts the deliveries answered with a problem, and the
	// reports of a batch given one in their result, by the problem's name
	// ("bad-signature", "replayed", "tampered", "store-unavailable", ...).
	Refused map[string]uint64
	// Batches counts the batched deliveries answered 200.
	Batches uint64
	// Flushes counts the flushes that made stored files durable (one
	// serves every report waiting when it starts), FlushFailures those
	// that failed, and FlushTime is how long they took together. Its rise
	// over a period divided by the period is the share of that period
	// the inbox's disk kept reports waiting: near 1, the disk is what
	// limits how fast reports are stored.
	Flushes, FlushFailures uint64
	FlushTime              time.Duration
}

// Stats returns the intake's counts since it started.
func (in *Intake) Stats() Stats {
	st := Stats{Stored: in.stored.Load(), Duplicates: in.dups.Load(), Batches: in.batches.Load(), Refused: map[string]uint64{}}
	in.refMu.Lock()
	maps.Copy(st.Refused, in.refused)
	in.refMu.Unlock()
	for _, fl := range []*flusher{&in.dirs, &in.urgents} {
		st.Flushes += fl.flushes.Load()
		st.FlushFailures += fl.errs.Load()
		st.FlushTime += time.Duration(fl.busy.Load())
	}
	return st
}

// refuse answers a delivery with p and counts it.
func (in *Intake) refuse(w http.ResponseWriter, p *problem.Problem) {
	in.countRefused(p)
	problem.Write(w, p)
}

// countRefused counts a delivery, or a report of a batch, refused with p.
func (in *Intake) countRefused(p *problem.Problem) {
	in.refMu.Lock()
	if in.refused == nil {
		in.refused = map[string]uint64{}
	}
	in.refused[p.Name()]++
	in.refMu.Unlock()
}

// HiddenReports counts the reports stored since start whose text holds
// control, bidi or invisible characters; each is also logged.
func (in *Intake) HiddenReports() uint64 { return in.hidden.Load() }

// UrgentDir is the folder inside the inbox for urgent reports.
const UrgentDir = "urgent"

// UrgentReports counts the urgent reports stored since start; each is
// also logged at warn level.
func (in *Intake) UrgentReports() uint64 { return in.urgent.Load() }

// Opened is what the intake writes as <id>.json.
type Opened struct {
	ID        string    `json:"id"`
	Reference string    `json:"reference"`
	Site      string    `json:"site"`
	Received  time.Time `json:"received"`
	Delivered time.Time `json:"delivered"`
	Problems  []string  `json:"problems,omitempty"`
	// HiddenCharacters names the report's fields that hold control, bidi
	// or invisible characters (see [HiddenCharacters]).
	HiddenCharacters []string `json:"hidden_characters,omitempty"`
	// Urgent is set when the reporter said a child is in danger right
	// now or that they are being threatened ([report.Report.IsUrgent]).
	Urgent bool `json:"urgent,omitempty"`
	// Labels are the report's category and answers in the shared
	// vocabularies ([report.Classify]), for a hotline's case system.
	Labels *report.Labels `json:"labels,omitempty"`
	Report *report.Report `json:"report"`
}

// maxDelivery bounds a delivery body: the envelope in base64 and the JSON
// around it.
const maxDelivery = report.MaxEnvelope*4/3 + 4096

// BatchSize is the most reports the intake takes in one batched delivery
// (docs/delivery.md, "Batched deliveries"). It announces it in the
// [delivery.BatchHeader] of every 2xx answer, so that a relay sends it
// batches.
const BatchSize = 32

// MaxBody is the largest request body the intake reads: a batch of
// BatchSize reports, each as large as a single delivery can be. A larger
// one is refused with 413 too-large, and so is a delivery that is not a
// batch and is larger than a single delivery can be.
const MaxBody = BatchSize * maxDelivery

func (in *Intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		in.refuse(w, problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "deliveries are POSTed"))
		return
	}
	now := time.Now()
	if in.Now != nil {
		now = in.Now()
	}
	// What can be checked without the body is, first: a request that
	// cannot verify is refused without waiting for its body.
	refusal := checkRequest(r)
	if err := in.Verifier.CheckHeaders(r.Header, now); refusal == nil && err != nil {
		in.warnRefused(now, "bad-signature", "delivery refused", "err", err)
		refusal = problem.New(http.StatusUnauthorized, "bad-signature", "Delivery not verified", err.Error())
	}
	if refusal != nil {
		// Over HTTP/1, a refusal before the body is read closes the
		// connection, so that net/http answers at once instead of first
		// reading the rest of the body (as the relay does).
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		in.refuse(w, refusal)
		return
	}
	content, release, err := in.readBody(w, r)
	defer release()
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		in.refuse(w, deliveryTooLarge())
		return
	}
	if errors.Is(err, errSlowBody) {
		in.warnRefused(now, "body-timeout", "delivery refused: its body arrived slower than the minimum rate", "bytes_per_second", MinBodyRate)
		in.refuse(w, problem.New(http.StatusRequestTimeout, "body-timeout", "Body too slow",
			fmt.Sprintf("the delivery arrived slower than %d bytes a second (after the first %v); nothing was stored: send it again", MinBodyRate, BodyGrace)))
		return
	}
	if errors.Is(err, errBusy) {
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close") // the rest of the body is not read
		}
		in.warnRefused(now, "busy", "delivery refused: as many large bodies are being read as the intake takes at once", "at_once", in.largeBodies())
		in.refuse(w, problem.New(http.StatusServiceUnavailable, "busy", "Intake busy",
			fmt.Sprintf("the intake is reading as many deliveries larger than a single one as it takes at once (%d); nothing was stored: try again later", in.largeBodies())))
		return
	}
	if err != nil {
		in.refuse(w, problem.New(http.StatusBadRequest, "bad-delivery", "Delivery not received", "failed to read the delivery: "+err.Error()))
		return
	}
	id, ts, body, err := in.Verifier.VerifyContent(r.Header, content, now)
	if err != nil {
		in.warnRefused(now, "bad-signature", "delivery refused", "err", err)
		in.refuse(w, problem.New(http.StatusUnauthorized, "bad-signature", "Delivery not verified", err.Error()))
		return
	}
	p, b, err := parseDelivery(body, id, in.Hotline)
	if errors.Is(err, errTooLarge) {
		in.refuse(w, deliveryTooLarge())
		return
	}
	if err != nil {
		in.Log.Warn("delivery refused", "err", err)
		in.refuse(w, problem.New(http.StatusBadRequest, "bad-delivery", "Malformed delivery", err.Error()))
		return
	}
	var attempt time.Time
	if b != nil {
		attempt = b.Timestamp
	} else {
		attempt = p.Timestamp
	}
	// A delivery whose signed content (id, timestamp, and the attempt time
	// in the body) was seen before within the timestamp tolerance is a
	// replay: each attempt of the relay carries its own attempt time.
	if !in.replay.first(id, ts, attempt, now, in.tolerance()) {
		in.warnRefused(now, "replayed", "delivery refused: replayed", "webhook_id", id)
		in.refuse(w, problem.New(http.StatusConflict, "replayed", "Delivery replayed",
			"this signed delivery was received before; a sender signs each attempt with its own attempt time"))
		return
	}
	if b != nil {
		in.serveBatch(w, id, b)
		return
	}
	created, errs := in.storeAll([]*delivery.Payload{p})
	result, prob := in.result(p.Data.ID, created[0], errs[0])
	if prob != nil {
		in.refuse(w, prob)
		return
	}
	in.accepted(w)
	json.NewEncoder(w).Encode(map[string]string{"id": p.Data.ID, "status": result})
}

// result is what the delivery of one report is answered, alone or in a
// batch, after it was stored (created: it was new) or failed with err.
func (in *Intake) result(id string, created bool, err error) (string, *problem.Problem) {
	var alarm *Alarm
	if errors.As(err, &alarm) {
		return "", in.raise(alarm)
	}
	if err != nil {
		// A full or failing disk fails every store, and a relay with a
		// backlog sends again and again: a line a second, not one each.
		now := time.Now()
		if in.Now != nil {
			now = in.Now()
		}
		if ok, skipped := in.quiet.Allow("store-unavailable", now); ok {
			in.Log.Error("failed to store delivery", quietlog.Args(skipped, "report", id, "err", err)...)
		}
		return "", problem.New(http.StatusServiceUnavailable, "store-unavailable", "Cannot store", "the inbox cannot be written; nothing was stored: try again later")
	}
	if !created {
		in.dups.Add(1)
		return "duplicate", nil
	}
	in.stored.Add(1)
	return "stored", nil
}

// serveBatch stores the reports of a batch together (see storeAll) and
// answers 200 with each one's result, in the batch's order.
func (in *Intake) serveBatch(w http.ResponseWriter, id string, b *delivery.Batch) {
	ds := b.Data.Deliveries
	ps := make([]*delivery.Payload, len(ds))
	for i := range ds {
		ps[i] = &delivery.Payload{Type: delivery.EventType, Timestamp: b.Timestamp, Data: ds[i]}
	}
	created, errs := in.storeAll(ps)
	answer := delivery.BatchAnswer{ID: id, Results: make([]delivery.BatchResult, len(ds))}
	for i, d := range ds {
		result, prob := in.result(d.ID, created[i], errs[i])
		answer.Results[i] = delivery.BatchResult{ID: d.ID, Status: http.StatusOK, Result: result}
		if prob != nil {
			in.countRefused(prob)
			answer.Results[i] = delivery.BatchResult{ID: d.ID, Status: prob.Status,
				Problem: &delivery.BatchProblem{Type: prob.Type, Title: prob.Title, Status: prob.Status, Detail: prob.Detail}}
		}
	}
	in.batches.Add(1)
	in.accepted(w)
	json.NewEncoder(w).Encode(&answer)
}

// inParallel runs do(0) to do(n-1), each in its own goroutine, and
// returns once all have returned. A panic in one is raised again in the
// caller's goroutine, where net/http recovers it as it does a single
// delivery's, instead of in one that ends the process.
func inParallel(n int, do func(i int)) {
	if n == 1 {
		do(0)
		return
	}
	var wg sync.WaitGroup
	var panicked atomic.Pointer[any]
	for i := range n {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					panicked.CompareAndSwap(nil, &v)
				}
			}()
			do(i)
		})
	}
	wg.Wait()
	if v := panicked.Load(); v != nil {
		panic(*v)
	}
}

// onCPUs runs do(0) to do(n-1) on as many goroutines as Go runs at once
// (GOMAXPROCS), each taking the next i until none is left, and returns
// once all have returned. For work held by the CPU it ends when
// inParallel would, but each goroutine's stack grows once for all the
// reports it opens instead of once per report: the decapsulation needs a
// larger stack than a goroutine starts with, and copying stacks as they
// grew cost about 16 µs of CPU per report opened.
func onCPUs(n int, do func(i int)) {
	var next atomic.Int64
	inParallel(min(n, runtime.GOMAXPROCS(0)), func(int) {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			do(i)
		}
	})
}

// accepted starts a 200 answer with a JSON body, and announces that the
// intake takes batches.
func (in *Intake) accepted(w http.ResponseWriter) {
	w.Header().Set(delivery.BatchHeader, strconv.Itoa(BatchSize))
	w.Header().Set("Content-Type", "application/json")
}

// checkRequest refuses, before the body is read, a delivery the relay
// would not send: one sent as another type than JSON (or as two types,
// which another reader of the same request might take otherwise), is compressed (a body is never
// decompressed, so that a small one cannot become a large one), or
// announces more than the largest batch can be.
func checkRequest(r *http.Request) *problem.Problem {
	if ct := r.Header.Values("Content-Type"); len(ct) > 1 || len(ct) == 1 && !isJSON(ct[0]) {
		return problem.New(http.StatusUnsupportedMediaType, "bad-content-type", "Unsupported content type",
			"a delivery is JSON, sent as application/json")
	}
	if ce := r.Header.Values("Content-Encoding"); len(ce) > 1 || len(ce) == 1 && ce[0] != "identity" {
		return problem.New(http.StatusUnsupportedMediaType, "bad-content-encoding", "Content-Encoding not accepted",
			"send the delivery as it is, without a Content-Encoding: compressed bodies are not accepted")
	}
	if r.ContentLength > MaxBody {
		return deliveryTooLarge()
	}
	return nil
}

// isJSON reports whether a Content-Type is application/json, with any
// parameters.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func deliveryTooLarge() *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Delivery too large",
		fmt.Sprintf("a delivery is at most %d bytes, a batch of %d reports at most %d; nothing was stored", maxDelivery, BatchSize, MaxBody))
}

// MaxLargeBodies is how many request bodies larger than a single
// delivery (batches) the intake reads and holds at once; one more is
// refused with 503 busy. Each connection may hold a single delivery's
// worth, and these, MaxBody at most each, come on top: a sender that can
// reach the intake, with or without a key, cannot make it hold more.
const MaxLargeBodies = 64

// BodyGrace and MinBodyRate bound how slowly a body may arrive: once
// BodyGrace is over, on average since its start, at MinBodyRate bytes a
// second (64 KiB) or faster; a slower one is cut off with 408
// body-timeout. A sender that passes the checks made before the body,
// which need no key, could otherwise hold a connection, busy, for the read
// timeout. The largest batch must arrive within that timeout of a minute
// anyway, at about this rate: the floor refuses no body the timeout takes.
const (
	BodyGrace   = 5 * time.Second
	MinBodyRate = 64 << 10
)

// errSlowBody is a body cut off for arriving slower than MinBodyRate.
var errSlowBody = errors.New("failed to read the delivery: slower than the minimum rate")

// errBusy is a body larger than a single delivery while MaxLargeBodies
// are being held.
var errBusy = errors.New("failed to read the delivery: too many large deliveries at once")

// largeBodies is how many large bodies the intake holds at once at most.
func (in *Intake) largeBodies() int64 {
	if in.maxLarge > 0 {
		return int64(in.maxLarge)
	}
	return MaxLargeBodies
}

// readBody reads a request's body, at most MaxBody bytes, and returns
// it with what to call once it is no longer used. It returns the signed
// content, the body after delivery.SignedPrefix of the request's headers,
// so that verifying it takes no copy of the body. The buffer holds what
// a single delivery can be at first, or what the request announced if
// less, and past that grows with what arrives, once the body has one of
// the intake's MaxLargeBodies places: a sender that announces a large
// body and sends nothing makes the intake hold no more than a single
// delivery. A body slower than MinBodyRate is cut off with errSlowBody.
func (in *Intake) readBody(w http.ResponseWriter, r *http.Request) ([]byte, func(), error) {
	g := httpedge.GuardRate(w, http.MaxBytesReader(w, r.Body, MaxBody), BodyGrace, MinBodyRate)
	body, release, err := in.readGuarded(r, g)
	if g.Stop() && errors.Is(err, os.ErrDeadlineExceeded) {
		err = errSlowBody
	}
	return body, release, err
}

// readGuarded is readBody, the body read through g.
func (in *Intake) readGuarded(r *http.Request, body io.Reader) ([]byte, func(), error) {
	prefix := delivery.SignedPrefix(r.Header)
	p := int64(len(prefix))
	want := int64(MaxBody)
	if n := r.ContentLength; n >= 0 && n <= MaxBody {
		want = n
	}
	large := false
	release := func() {
		if large {
			in.large.Add(-1)
		}
	}
	buf := make([]byte, p, p+min(want, maxDelivery)+1) // +1: no growth to find the end
	copy(buf, prefix)
	for {
		if len(buf) == cap(buf) {
			if !large {
				if in.large.Add(1) > in.largeBodies() {
					in.large.Add(-1)
					return nil, release, errBusy
				}
				large = true
			}
			// Doubled, up to what was announced, and past that (a
			// request that sends more than it announced) up to the
			// bound, which MaxBytesReader stops at.
			limit := p + MaxBody + 1
			if int64(len(buf))-p < want+1 {
				limit = p + want + 1
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, release, nil
		}
		if err != nil {
			return buf, release, err
		}
	}
}

func (in *Intake) tolerance() time.Duration {
	if in.Verifier.Tolerance > 0 {
		return in.Verifier.Tolerance
	}
	return delivery.DefaultTolerance
}

// errTooLarge is a delivery that is not a batch, larger than a single
// delivery can be.
var errTooLarge = errors.New("failed to parse delivery: larger than a single delivery can be")

// parseDelivery decodes and checks a delivery's JSON: a single delivery,
// or a batch if its type says so.
func parseDelivery(body []byte, webhookID, hotline string) (*delivery.Payload, *delivery.Batch, error) {
	if isBatch(body) {
		b, err := parseBatch(body, hotline)
		return nil, b, err
	}
	if len(body) > maxDelivery {
		return nil, nil, errTooLarge
	}
	p, err := parsePayload(body, webhookID, hotline)
	return p, nil, err
}

// parsePayload decodes and checks a single delivery's JSON.
func parsePayload(body []byte, webhookID, hotline string) (*delivery.Payload, error) {
	p, err := decodePayload(body)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Type != delivery.EventType:
		return nil, fmt.Errorf("unknown event type %q", p.Type)
	case p.Data.ID != webhookID:
		return nil, errors.New("report id differs from webhook-id")
	}
	if err := checkData(&p.Data, hotline); err != nil {
		return nil, err
	}
	return p, nil
}

// parseBatch decodes and checks a batch's JSON: from 1 to BatchSize
// reports, each once, each as a single delivery's data must be.
func parseBatch(body []byte, hotline string) (*delivery.Batch, error) {
	b, err := decodeBatch(body)
	if err != nil {
		return nil, err
	}
	ds := b.Data.Deliveries
	switch {
	case b.Type != delivery.BatchEventType:
		return nil, fmt.Errorf("unknown event type %q", b.Type)
	case len(ds) == 0:
		return nil, errors.New("the batch holds no report")
	case len(ds) > BatchSize:
		return nil, fmt.Errorf("the batch holds %d reports, more than the %d this intake takes: send at most as many as its %s header says", len(ds), BatchSize, delivery.BatchHeader)
	}
	seen := make(map[string]bool, len(ds))
	for i := range ds {
		if err := checkData(&ds[i], hotline); err != nil {
			return nil, fmt.Errorf("report %d of the batch: %w", i+1, err)
		}
		if seen[ds[i].ID] {
			return nil, fmt.Errorf("report %d of the batch: report %s is in the batch twice", i+1, ds[i].ID)
		}
		seen[ds[i].ID] = true
	}
	return b, nil
}

// checkData checks a delivered report's data: its id names its files,
// it is for this hotline, and it has an envelope.
func checkData(d *delivery.Data, hotline string) error {
	switch {
	case !canonicalUUID(d.ID):
		return errors.New("report id is not a UUID in lower-case canonical form")
	case d.Hotline != hotline:
		return fmt.Errorf("report is for hotline %q, this is %q", d.Hotline, hotline)
	case len(d.Envelope) == 0:
		return errors.New("empty envelope")
	}
	return nil
}

// canonicalUUID reports whether id is a UUID as the relay writes report
// ids: 36 characters, lower case, with dashes. It names the report's
// files, so one report has one name.
func canonicalUUID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// storeAll checks and opens each report's envelope and writes the report
// as <id>.json and the envelope as <id>.age, and returns once all are
// durable, with whether each report was new and each one's error.
//
// A report is stored once both files exist, or the .age alone for an
// envelope that does not open. An .age without its .json (a write that
// failed, or a crash between the two) is completed when the relay tries
// again, rather than answered as a duplicate.
//
// It stores in two steps, each for all the reports at once: first it
// checks and opens every report (the CPU's work), then writes them
// together, so that a batch takes the flushes of one report (see
// writeReports) instead of trickling into several as its reports finish
// opening. Reports with different ids, stored by different requests at
// the same time, share their flushes too (see flusher).
func (in *Intake) storeAll(ps []*delivery.Payload) (created []bool, errs []error) {
	// The ids are locked in one order, so that two batches sharing
	// reports cannot each wait for the other.
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.Data.ID
	}
	slices.Sort(ids)
	for _, id := range ids {
		defer in.lock(id)()
	}
	pds := make([]*pending, len(ps))
	errs = make([]error, len(ps))
	onCPUs(len(ps), func(i int) { pds[i], errs[i] = in.prepare(ps[i]) })
	var todo []*pending
	var at []int
	for i, pd := range pds {
		if errs[i] == nil && pd != nil {
			todo, at = append(todo, pd), append(at, i)
		}
	}
	for k, err := range in.write(todo) {
		errs[at[k]] = err
	}
	created = make([]bool, len(ps))
	for i, pd := range pds {
		created[i] = pd != nil
	}
	return created, errs
}

// pending is a report checked and opened, whose files are still to be
// written.
type pending struct {
	o      *Opened
	dir    string // the folder it goes to
	files  []file // what is to be written there
	urgent bool   // dir is the urgent folder
}

// prepare does the part of storing a report that comes before writing:
// it checks the envelope's recipients, looks for an earlier copy of the
// report, opens the envelope and makes the .json. It returns nil, and no
// error, for a report already stored, and an *Alarm for an envelope or
// report that does not match. The caller holds the report id's lock
// until the report is written.
func (in *Intake) prepare(p *delivery.Payload) (*pending, error) {
	if a := in.checkEnvelope(p); a != nil {
		return nil, a
	}
	id := p.Data.ID
	urgentDir := filepath.Join(in.Inbox, UrgentDir)
	var haveAge [2]bool // in the inbox, in the urgent folder
	for i, dir := range []string{in.Inbox, urgentDir} {
		haveAge[i] = exists(filepath.Join(dir, id+".age"))
		if haveAge[i] && exists(filepath.Join(dir, id+".json")) {
			in.Log.Info("duplicate delivery ignored", "report", id)
			return nil, nil
		}
	}
	o, err := in.open(p)
	if err != nil {
		return nil, err
	}
	dir, ageThere := in.Inbox, haveAge[0]
	if o.Urgent {
		dir, ageThere = urgentDir, haveAge[1]
	}
	b, err := marshalOpened(o)
	if err != nil {
		return nil, fmt.Errorf("failed to write %s.json: %w", id, err)
	}
	files := []file{{filepath.Join(dir, id+".json"), b}}
	if !ageThere {
		files = append(files, file{filepath.Join(dir, id+".age"), p.Data.Envelope})
	}
	return &pending{o: o, dir: dir, files: files, urgent: o.Urgent}, nil
}

// write writes prepared reports, those of each folder together (see
// writeReports), and returns each one's error once its files are durable;
// then it logs and counts each report written, and passes it to Opened.
func (in *Intake) write(pds []*pending) []error {
	errs := make([]error, len(pds))
	var folders [2][]int // the reports for the inbox, for the urgent folder
	for i, pd := range pds {
		if pd.urgent {
			folders[1] = append(folders[1], i)
		} else {
			folders[0] = append(folders[0], i)
		}
	}
	var use [][]int
	for _, f := range folders {
		if len(f) > 0 {
			use = append(use, f)
		}
	}
	inParallel(len(use), func(k int) {
		f := use[k]
		dir, fl := pds[f[0]].dir, &in.dirs
		if pds[f[0]].urgent {
			fl = &in.urgents
			if err := makeDir(in.Inbox, UrgentDir); err != nil {
				for _, i := range f {
					errs[i] = err
				}
				return
			}
		}
		reports := make([][]file, len(f))
		for k, i := range f {
			reports[k] = pds[i].files
		}
		for k, err := range in.writeReports(reports, dir, fl) {
			errs[f[k]] = err
		}
	})
	for i, pd := range pds {
		if errs[i] == nil {
			in.written(pd)
		}
	}
	return errs
}

// written logs and counts a report just stored, and passes it to Opened.
func (in *Intake) written(pd *pending) {
	o := pd.o
	if len(o.HiddenCharacters) > 0 {
		in.Log.Warn("report holds hidden or control characters", "report", o.ID, "fields", o.HiddenCharacters, "total", in.hidden.Add(1))
	}
	if o.Urgent {
		in.Log.Warn("URGENT report received: a child may be in danger now, or the reporter is being threatened",
			"report", o.ID, "reference", o.Reference, "folder", pd.dir, "total", in.urgent.Add(1))
	} else {
		in.Log.Info("report received", "report", o.ID, "reference", o.Reference)
	}
	if in.Opened != nil {
		in.Opened(o)
	}
}

// file is one file of a report to write.
type file struct {
	path string
	data []byte
}

// writeReports writes the files of several reports into dir, and returns
// each report's error once its files are durable (see flusher). The
// reports take their flushes together: grouped, two for all of them (one
// for the data, one for the names), portable one, and these are shared
// with the other reports stored at the same time. If a report's file
// fails, those of it written are removed again, so nothing half-stored is
// left; the other reports are still stored.
func (in *Intake) writeReports(reports [][]file, dir string, fl *flusher) []error {
	errs := make([]error, len(reports))
	epoch, err := fl.begin(dir)
	if err != nil {
		for r := range errs {
			errs[r] = err
		}
		return errs
	}
	stage := in.stageFile
	if stage == nil {
		stage = stageFile
	}
	type slot struct{ r, i int }
	var slots []slot
	written := make([][]staged, len(reports))
	fileErrs := make([][]error, len(reports))
	for r, files := range reports {
		written[r], fileErrs[r] = make([]staged, len(files)), make([]error, len(files))
		for i := range files {
			slots = append(slots, slot{r, i})
		}
	}
	stageSlot := func(k int) {
		s := slots[k]
		f := reports[s.r][s.i]
		written[s.r][s.i], fileErrs[s.r][s.i] = stage(f.path, f.data, fl)
	}
	if fl.grouped && len(reports) == 1 {
		for k := range slots {
			stageSlot(k)
		}
	} else {
		// Each file is fsynced (portable), or there are many: all at once.
		inParallel(len(slots), stageSlot)
	}
	ok := 0 // reports without an error so far
	for r := range reports {
		if errs[r] = errors.Join(fileErrs[r]...); errs[r] == nil {
			ok++
		}
	}
	// failOK gives err to every report without an error.
	failOK := func(err error) {
		for r := range errs {
			if errs[r] == nil {
				errs[r] = err
			}
		}
	}
	if ok > 0 && fl.grouped {
		if err := fl.flush(epoch); err != nil { // the data, before a name points at it
			failOK(err)
			ok = 0
		}
	}
	named := make([]int, len(reports))
	for r, files := range reports {
		if errs[r] != nil {
			continue
		}
		for i, f := range files {
			err := written[r][i].name(f.path) // which cleans up after itself if it fails
			written[r][i] = nil
			if err != nil {
				errs[r] = err
				ok--
				break
			}
			named[r]++
		}
	}
	if ok > 0 {
		if err := fl.flush(epoch); err != nil { // the names
			failOK(err)
		}
	}
	for r, files := range reports {
		if errs[r] == nil {
			continue
		}
		for i, f := range files {
			if i < named[r] {
				os.Remove(f.path)
			} else if written[r][i] != nil {
				written[r][i].discard()
			}
		}
	}
	return errs
}

// stageFile writes one file of a report into fl's folder, without its
// name: unnamed where fl can, else under a temporary name, fsynced unless
// fl flushes the whole filesystem.
func stageFile(path string, data []byte, fl *flusher) (staged, error) {
	if fl.unnamed {
		return writeUnnamed(path, data, 0o600)
	}
	return writeTemp(path, data, 0o600, !fl.grouped)
}

// idLock serialises the deliveries of one report id.
type idLock struct {
	mu   sync.Mutex
	refs int // holders and waiters, under Intake.mu
}

// lock takes the lock of one report id and returns its unlock.
func (in *Intake) lock(id string) (unlock func()) {
	in.mu.Lock()
	if in.storing == nil {
		in.storing = map[string]*idLock{}
	}
	l := in.storing[id]
	if l == nil {
		l = &idLock{}
		in.storing[id] = l
	}
	l.refs++
	in.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		in.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(in.storing, id)
		}
		in.mu.Unlock()
	}
}

// open opens a delivered envelope with the hotline's identities and checks
// the report. An envelope that does not open, or a report whose sealed id,
// hotline or site differ from the signed delivery's, is an *Alarm.
func (in *Intake) open(p *delivery.Payload) (*Opened, error) {
	id := p.Data.ID
	o := &Opened{ID: id, Reference: report.Reference(id), Site: p.Data.Site, Received: p.Data.Received, Delivered: time.Now().UTC().Truncate(time.Second)}
	r, _, err := report.Open(p.Data.Envelope, in.Identities...)
	if err != nil {
		return nil, &Alarm{Report: id, Kind: AlarmUnopenable, Reason: "the envelope does not open with the hotline's identity (" + err.Error() + ")"}
	}
	switch {
	case r.ID != id:
		return nil, &Alarm{Report: id, Kind: AlarmMismatch, Reason: fmt.Sprintf("the sealed report id %q differs from the delivered id", r.ID)}
	case r.Hotline != p.Data.Hotline:
		return nil, &Alarm{Report: id, Kind: AlarmMismatch, Reason: fmt.Sprintf("the sealed hotline %q differs from the hotline %q the relay signed", r.Hotline, p.Data.Hotline)}
	case r.Site != p.Data.Site:
		return nil, &Alarm{Report: id, Kind: AlarmMismatch, Reason: fmt.Sprintf("the sealed site %q differs from the site %q the relay signed", r.Site, p.Data.Site)}
	}
	o.Report = r
	form := in.Form
	if form == nil {
		form = report.DefaultForm()
	}
	var ve *report.ValidationError
	if err := report.Validate(form, r, time.Now()); errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			o.Problems = append(o.Problems, fe.Error())
		}
	}
	o.HiddenCharacters = HiddenCharacters(r)
	o.Urgent, o.Labels = r.IsUrgent(), report.Classify(r)
	return o, nil
}

// exists reports whether a file is there.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// makeDir makes the folder name inside parent, if it is not there, and
// syncs parent so that the folder outlasts a crash with what is put in it.
func makeDir(parent, name string) error {
	if _, err := os.Stat(filepath.Join(parent, name)); err == nil {
		return nil
	}
	if err := os.Mkdir(filepath.Join(parent, name), 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("failed to create the %s folder: %w", name, err)
	}
	return syncDir(parent)
}

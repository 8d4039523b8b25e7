// Package natsstore keeps the relay's reports in a replicated NATS
// JetStream stream, so that several relay processes share one queue: any
// of them accepts a report, any of them delivers it, and no single machine
// or disk can lose or stall an accepted report. docs/scaling.md says when
// to use it, how to run the NATS cluster and what it guarantees.
//
// # Layout
//
// With the name N (default "reportline"), the store uses:
//
//   - the stream N_pending, subjects N.pending.ID, work-queue retention,
//     at most one message per subject (a newer one replaces it): the
//     reports waiting for delivery, one message each, its body the age
//     ciphertext and its metadata in headers (see the hdr constants);
//   - the stream N_urgent, subjects N.urgent.ID, the same for the reports
//     the form marked urgent (header Reportline-Urgent: 1), so that they
//     are handed out ahead of the others, on every attempt;
//   - the durable pull consumers N_forward and N_forward_urgent on them,
//     shared by the forwarders of every relay: a report is handed to one
//     forwarder at a time, and leaves its stream only when that forwarder
//     acknowledges it after the intake's 2xx;
//   - the stream N_dead, subjects N.dead.ID: the dead-letter area;
//   - the key-value bucket N_proofs: the proof-of-work key and the spent
//     proofs, shared by every relay (see [Proofs]).
//
// The streams must be replicated (three replicas) on servers that fsync
// every write (sync_interval: always): Put returns only after the stream's
// quorum has the report, and only then does the relay answer 202.
//
// A failed attempt is recorded by publishing the report again with its
// new attempt count, error and next attempt time, which replaces the old
// message; the copy is held back (negatively acknowledged with a delay)
// until it is due. So the backoff and Retry-After rules of package
// forward apply unchanged, and `relay spool ls` shows every report's state
// whichever relay tried it.
//
// Nats-Msg-Id is set to the report id, but its de-duplication is only an
// optimisation: it does not survive every restart. The report id is the
// idempotency key end to end, and the intake de-duplicates by it.
package natsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/reportline/reportline/relay/spool"
)

// Headers of a stored report. Nothing in them is about the client.
const (
	hdrHotline  = "Reportline-Hotline"
	hdrSite     = "Reportline-Site"
	hdrReceived = "Reportline-Received" // Unix seconds
	hdrAttempts = "Reportline-Attempts"
	hdrNext     = "Reportline-Next" // Unix nanoseconds
	hdrLastErr  = "Reportline-Last-Error"
	hdrUrgent   = "Reportline-Urgent" // "1", or absent
)

// Options configure a [Store]. The zero value of each field means its
// default.
type Options struct {
	// Name prefixes the streams, consumer, subjects and bucket; letters,
	// digits, '-' and '_'. Default "reportline".
	Name string
	// Replicas is how many servers hold each stream; default 3.
	Replicas int
	// AckWait is how long a report handed to a forwarder stays its own
	// without a sign of life before the server hands it to another; the
	// store renews it while the forwarder holds it. It bounds how long a
	// crashed relay's reports wait. Default 30s.
	AckWait time.Duration
	// Poll is how often the forwarder looks for reports when it has none:
	// others relays' reports arrive without waking it. Default 500ms.
	Poll time.Duration
	// Timeout bounds each request to the servers. Default 10s.
	Timeout time.Duration
	// Log, if set, receives the store's warnings.
	Log *slog.Logger
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	// idRE is what a report id may be here: one subject token.
	idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Check returns an error if o has a value Open would refuse.
func (o Options) Check() error {
	if o.Name != "" && !nameRE.MatchString(o.Name) {
		return fmt.Errorf("name %q: use 1 to 32 letters, digits, '-' or '_'", o.Name)
	}
	if o.Replicas < 0 || o.Replicas > 5 {
		return fmt.Errorf("replicas %d: use 1, 3 or 5 (3 survives the loss of one server)", o.Replicas)
	}
	return nil
}

func (o *Options) defaults() {
	if o.Name == "" {
		o.Name = "reportline"
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Store is a durable, replicated store of reports in JetStream; it
// implements the relay's store.Store. It is safe for concurrent use.
type Store struct {
	o        Options
	js       jetstream.JetStream
	pending  jetstream.Stream
	urgent   jetstream.Stream
	dead     jetstream.Stream
	consumer jetstream.Consumer
	urgents  jetstream.Consumer // of the urgent stream

	mu   sync.Mutex
	held map[string]*heldMsg // reports this process was handed
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// heldMsg is a report handed to this process and not yet acknowledged.
type heldMsg struct {
	msg   jetstream.Msg
	entry spool.Entry
}

// Open makes the streams and the consumer if they do not exist (and
// updates them to o if they do), and returns the store. nc stays the
// caller's to close, after Close.
func Open(ctx context.Context, nc *nats.Conn, o Options) (*Store, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("open jetstream store: %w", err)
	}
	o.defaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open jetstream store: %w", err)
	}
	s := &Store{o: o, js: js, held: map[string]*heldMsg{}, stop: make(chan struct{}), done: make(chan struct{})}
	s.pending, s.consumer, err = s.queue(ctx, "pending", "_forward", "reports waiting for delivery to a hotline")
	if err != nil {
		return nil, err
	}
	s.urgent, s.urgents, err = s.queue(ctx, "urgent", "_forward_urgent", "urgent reports waiting for delivery to a hotline")
	if err != nil {
		return nil, err
	}
	s.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              o.Name + "_dead",
		Description:       "reports that could not be delivered, waiting for an operator",
		Subjects:          []string{s.subject("dead", ">")},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Replicas:          o.Replicas,
		MaxMsgsPerSubject: 1,
		Discard:           jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("open jetstream store: stream %s_dead: %w", o.Name, err)
	}
	go s.keepHeld()
	return s, nil
}

// queue makes (or updates) a work-queue stream of reports waiting for
// delivery, N_kind, and the forwarders' consumer on it.
func (s *Store) queue(ctx context.Context, kind, consumer, what string) (jetstream.Stream, jetstream.Consumer, error) {
	o := s.o
	st, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              o.Name + "_" + kind,
		Description:       what,
		Subjects:          []string{s.subject(kind, ">")},
		Retention:         jetstream.WorkQueuePolicy,
		Storage:           jetstream.FileStorage,
		Replicas:          o.Replicas,
		MaxMsgsPerSubject: 1,
		Discard:           jetstream.DiscardOld,
		Duplicates:        2 * time.Minute,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open jetstream store: stream %s_%s: %w", o.Name, kind, err)
	}
	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       o.Name + consumer,
		Description:   "the forwarders of every relay",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxAckPending: 100_000,
		Replicas:      o.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open jetstream store: consumer %s%s: %w", o.Name, consumer, err)
	}
	return st, c, nil
}

// waiting returns the stream and subject kind a pending report is kept in.
func (s *Store) waiting(e spool.Entry) (jetstream.Stream, string) {
	if e.Urgent {
		return s.urgent, "urgent"
	}
	return s.pending, "pending"
}

func (s *Store) subject(kind, id string) string { return s.o.Name + "." + kind + "." + id }

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.o.Timeout)
}

// Close stops renewing the reports this process holds (the servers hand
// them to another relay after AckWait). The connection stays open.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.stop); <-s.done })
	return nil
}

// keepHeld tells the servers, every third of AckWait, that this process
// still works on the reports it holds.
func (s *Store) keepHeld() {
	defer close(s.done)
	t := time.NewTicker(s.o.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		msgs := make([]jetstream.Msg, 0, len(s.held))
		for _, h := range s.held {
			msgs = append(msgs, h.msg)
		}
		s.mu.Unlock()
		for _, m := range msgs {
			m.InProgress()
		}
	}
}

// header builds a stored report's headers.
func header(e spool.Entry) nats.Header {
	h := nats.Header{}
	h.Set(hdrHotline, e.Hotline)
	h.Set(hdrSite, e.Site)
	h.Set(hdrReceived, strconv.FormatInt(e.Received.Unix(), 10))
	h.Set(hdrAttempts, strconv.Itoa(e.Attempts))
	h.Set(hdrNext, strconv.FormatInt(e.NextAttempt.UnixNano(), 10))
	if e.LastError != "" {
		h.Set(hdrLastErr, strings.Map(printable, e.LastError))
	}
	if e.Urgent {
		h.Set(hdrUrgent, "1")
	}
	return h
}

// printable replaces control characters, which a header cannot hold.
func printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return ' '
	}
	return r
}

// errBadMessage is a message in the store's streams that it did not write.
var errBadMessage = errors.New("not a report: missing or bad headers")

// entryOf reads a stored report from its subject's last token, headers and body.
func entryOf(id string, h nats.Header, body []byte, dead bool) (spool.Entry, error) {
	e := spool.Entry{ID: id, Hotline: h.Get(hdrHotline), Site: h.Get(hdrSite), Body: body,
		LastError: h.Get(hdrLastErr), Dead: dead}
	rec, err1 := strconv.ParseInt(h.Get(hdrReceived), 10, 64)
	att, err2 := strconv.Atoi(h.Get(hdrAttempts))
	next, err3 := strconv.ParseInt(h.Get(hdrNext), 10, 64)
	urgent := h.Get(hdrUrgent)
	if err := errors.Join(err1, err2, err3); err != nil || e.Hotline == "" || urgent != "" && urgent != "1" {
		return spool.Entry{}, fmt.Errorf("report %s: %w", id, errBadMessage)
	}
	e.Urgent = urgent == "1"
	e.Received = time.Unix(rec, 0).UTC()
	e.Attempts = att
	e.NextAttempt = time.Unix(0, next).UTC()
	return e, nil
}

// idOf is the last token of a subject: the report id.
func idOf(subject string) string {
	i := strings.LastIndexByte(subject, '.')
	return subject[i+1:]
}

// Put stores a new report and returns once a quorum of the stream's
// replicas has it. Like [spool.Spool.Put] it is idempotent by id, and an
// id stored with other content is refused with [spool.ErrConflict].
func (s *Store) Put(e spool.Entry) (spool.Entry, bool, error) {
	if !idRE.MatchString(e.ID) {
		return spool.Entry{}, false, fmt.Errorf("put report %q: %w: bad id", e.ID, spool.ErrInvalid)
	}
	if e.Received.IsZero() {
		e.Received = time.Now()
	}
	e.Received = e.Received.UTC().Truncate(time.Second)
	if e.NextAttempt.IsZero() {
		e.NextAttempt = e.Received
	}
	e.Attempts, e.LastError, e.Dead = 0, "", false
	var old spool.Entry
	err := retry(s.o.Timeout, func(ctx context.Context) (err error) { old, err = s.get(ctx, e.ID); return err })
	if err == nil {
		return same(old, e)
	} else if !errors.Is(err, spool.ErrNotFound) {
		return spool.Entry{}, false, fmt.Errorf("put report %s: %w", e.ID, err)
	}
	_, kind := s.waiting(e)
	err = retry(s.o.Timeout, func(ctx context.Context) error {
		_, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.subject(kind, e.ID), Header: header(e), Data: e.Body},
			jetstream.WithMsgID(e.ID), jetstream.WithExpectLastSequencePerSubject(0))
		return err
	})
	if err != nil {
		// Another relay may have stored the same id meanwhile.
		if old, gerr := s.Get(e.ID); gerr == nil {
			return same(old, e)
		}
		return spool.Entry{}, false, fmt.Errorf("put report %s: %w", e.ID, err)
	}
	return e, true, nil
}

// retry runs fn up to three times within timeout, each try with a third
// of it, while it times out: a request sent on a connection to a server
// that just died is lost, and the next try goes to a live one (a write
// that did arrive is found by the caller's check of the id, or refused
// by its expected sequence).
func retry(timeout time.Duration, fn func(ctx context.Context) error) error {
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout/3)
		err = fn(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, nats.ErrNoResponders) {
			return err
		}
	}
	return err
}

// same answers a Put of e when old is stored under its id.
func same(old, e spool.Entry) (spool.Entry, bool, error) {
	if old.Hotline != e.Hotline || old.Site != e.Site || !bytes.Equal(old.Body, e.Body) {
		return spool.Entry{}, false, fmt.Errorf("put report %s: %w", e.ID, spool.ErrConflict)
	}
	return old, false, nil
}

// Get returns a pending or dead report, or an error wrapping
// [spool.ErrNotFound].
func (s *Store) Get(id string) (spool.Entry, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.get(ctx, id)
}

func (s *Store) get(ctx context.Context, id string) (spool.Entry, error) {
	if !idRE.MatchString(id) {
		return spool.Entry{}, fmt.Errorf("get report %q: %w", id, spool.ErrNotFound)
	}
	for _, st := range []struct {
		stream jetstream.Stream
		kind   string
	}{{s.pending, "pending"}, {s.urgent, "urgent"}, {s.dead, "dead"}} {
		m, err := st.stream.GetLastMsgForSubject(ctx, s.subject(st.kind, id))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return spool.Entry{}, fmt.Errorf("get report %s: %w", id, err)
		}
		return entryOf(id, m.Header, m.Data, st.kind == "dead")
	}
	return spool.Entry{}, fmt.Errorf("get report %s: %w", id, spool.ErrNotFound)
}

// Writable returns an error if the pending stream cannot be reached.
func (s *Store) Writable() error {
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.pending.Info(ctx); err != nil {
		return fmt.Errorf("jetstream store: %w", err)
	}
	return nil
}

// Stats counts the pending and dead reports and finds the oldest pending.
func (s *Store) Stats() (spool.Stats, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	pi, err := s.pending.Info(ctx)
	if err != nil {
		return spool.Stats{}, fmt.Errorf("jetstream store stats: %w", err)
	}
	ui, err := s.urgent.Info(ctx)
	if err != nil {
		return spool.Stats{}, fmt.Errorf("jetstream store stats: %w", err)
	}
	di, err := s.dead.Info(ctx)
	if err != nil {
		return spool.Stats{}, fmt.Errorf("jetstream store stats: %w", err)
	}
	st := spool.Stats{Pending: int(pi.State.Msgs + ui.State.Msgs), Dead: int(di.State.Msgs)}
	// A retried report is republished, so the first message is not always
	// the oldest; the first of each stream is a good enough sign of a
	// stuck queue.
	for _, q := range []struct {
		stream jetstream.Stream
		kind   string
		state  jetstream.StreamState
	}{{s.pending, "pending", pi.State}, {s.urgent, "urgent", ui.State}} {
		if q.state.Msgs == 0 {
			continue
		}
		m, err := q.stream.GetMsg(ctx, q.state.FirstSeq, jetstream.WithGetMsgSubject(s.subject(q.kind, ">")))
		if err != nil {
			continue
		}
		if e, err := entryOf(idOf(m.Subject), m.Header, nil, false); err == nil && (st.Oldest.IsZero() || e.Received.Before(st.Oldest)) {
			st.Oldest = e.Received
		}
	}
	return st, nil
}

// list reads every report in a stream, in stream order.
func (s *Store) list(stream jetstream.Stream, kind string, limit int, keep func(spool.Entry) bool) ([]spool.Entry, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var out []spool.Entry
	for seq := uint64(1); limit <= 0 || len(out) < limit; {
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(s.subject(kind, ">")))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s reports: %w", kind, err)
		}
		seq = m.Sequence + 1
		e, err := entryOf(idOf(m.Subject), m.Header, m.Data, kind == "dead")
		if err != nil {
			s.o.Log.Warn("jetstream store: skipping a message that is not a report", "subject", m.Subject)
			continue
		}
		if keep(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Due returns up to limit (all if zero) pending reports due at now, the
// urgent ones first, for `relay spool ls`; the forwarder uses DueSkipping.
func (s *Store) Due(now time.Time, limit int) ([]spool.Entry, error) {
	due := func(e spool.Entry) bool { return !e.NextAttempt.After(now) }
	out, err := s.list(s.urgent, "urgent", limit, due)
	if err != nil || limit > 0 && len(out) >= limit {
		return out, err
	}
	rest, err := s.list(s.pending, "pending", limit-len(out), due)
	return append(out, rest...), err
}

// Dead returns the reports in the dead-letter stream.
func (s *Store) Dead() ([]spool.Entry, error) {
	return s.list(s.dead, "dead", 0, func(spool.Entry) bool { return true })
}

// DueSkipping returns up to limit reports for this process's forwarder to
// deliver: the urgent ones first (those it was handed and has not
// finished, then new ones from the shared urgent consumer), then the
// others likewise. Reports not yet due are handed back to the servers
// until they are. Reports for which skipID returns true (being delivered)
// or skipHotline returns true for their hotline (no free slot) are passed
// over, and those handed meanwhile are kept for the next call. Either func
// may be nil.
func (s *Store) DueSkipping(now time.Time, limit int, skipID, skipHotline func(string) bool) ([]spool.Entry, error) {
	if limit <= 0 {
		limit = 64
	}
	// take is asked once per report at most: skipHotline counts the
	// reports it lets through.
	var out []spool.Entry
	take := func(e spool.Entry) {
		if len(out) < limit && (skipID == nil || !skipID(e.ID)) && (skipHotline == nil || !skipHotline(e.Hotline)) {
			out = append(out, e)
		}
	}
	for _, c := range []struct {
		consumer jetstream.Consumer
		urgent   bool
	}{{s.urgents, true}, {s.consumer, false}} {
		for _, e := range s.holding(c.urgent) {
			take(e)
		}
		fetched, err := s.fetch(c.consumer, now, limit-len(out), 2*limit)
		for _, e := range fetched {
			take(e)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// holding returns the reports this process holds, urgent or not, earliest
// due first.
func (s *Store) holding(urgent bool) []spool.Entry {
	s.mu.Lock()
	var held []spool.Entry
	for _, h := range s.held {
		if h.entry.Urgent == urgent {
			held = append(held, h.entry)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(held, func(a, b spool.Entry) int { return a.NextAttempt.Compare(b.NextAttempt) })
	return held
}

// fetch takes up to want due reports from c, holds them, and returns those
// it did not hold already. It fetches only while this process holds fewer
// than most reports it has not started: the rest stay with the servers,
// for other relays.
func (s *Store) fetch(c jetstream.Consumer, now time.Time, want, most int) ([]spool.Entry, error) {
	s.mu.Lock()
	want = min(want, most-len(s.held))
	s.mu.Unlock()
	if want <= 0 {
		return nil, nil
	}
	batch, err := c.FetchNoWait(want)
	if err != nil {
		return nil, fmt.Errorf("fetch due reports: %w", err)
	}
	var out []spool.Entry
	for m := range batch.Messages() {
		e, err := entryOf(idOf(m.Subject()), m.Headers(), m.Data(), false)
		if err != nil {
			s.o.Log.Error("jetstream store: a message that is not a report was dropped", "subject", m.Subject())
			m.Term()
			continue
		}
		if wait := e.NextAttempt.Sub(now); wait > 0 {
			m.NakWithDelay(wait)
			continue
		}
		s.mu.Lock()
		_, again := s.held[e.ID]
		s.held[e.ID] = &heldMsg{msg: m, entry: e}
		s.mu.Unlock()
		if !again {
			out = append(out, e)
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return out, fmt.Errorf("fetch due reports: %w", err)
	}
	return out, nil
}

// NextDue tells the forwarder when to look again: reports of other relays
// and retries held by the servers arrive without a wake-up, so it polls.
func (s *Store) NextDue() (time.Time, bool, error) {
	return time.Now().Add(s.o.Poll), true, nil
}

// take removes a report from those this process holds.
func (s *Store) take(id string) *heldMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.held[id]
	delete(s.held, id)
	return h
}

// claim takes the message this process holds for id, or, when it holds
// none, reads the pending report from the stream.
func (s *Store) claim(id string) (*heldMsg, spool.Entry, error) {
	if h := s.take(id); h != nil {
		return h, h.entry, nil
	}
	e, err := s.Get(id)
	if err == nil && e.Dead {
		err = spool.ErrNotFound
	}
	return nil, e, err
}

// release gives back a message claim took, when what it was taken for
// failed, so the forwarder can try again with it.
func (s *Store) release(id string, h *heldMsg) {
	if h != nil {
		s.mu.Lock()
		s.held[id] = h
		s.mu.Unlock()
	}
}

// Delete acknowledges a delivered report, which removes it from the
// stream; it returns once the servers confirmed. A report this process
// does not hold is deleted from the stream by id.
func (s *Store) Delete(id string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if h := s.take(id); h != nil {
		if err := h.msg.DoubleAck(ctx); err != nil {
			return fmt.Errorf("delete report %s: %w", id, err)
		}
		return nil
	}
	if err := s.unqueue(ctx, id); err != nil {
		return fmt.Errorf("delete report %s: %w", id, err)
	}
	return nil
}

// DeleteAll removes delivered reports as [Store.Delete] does, each
// confirmed by the servers (JetStream has no write that acknowledges many
// messages at once), passing over those no longer pending. It reports how
// many it removed.
func (s *Store) DeleteAll(ids []string) (int, error) {
	n := 0
	var errs []error
	for _, id := range ids {
		switch err := s.Delete(id); {
		case err == nil:
			n++
		case !errors.Is(err, spool.ErrNotFound):
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// unqueue removes a pending report from whichever of the two pending
// streams holds it, or returns an error wrapping [spool.ErrNotFound].
func (s *Store) unqueue(ctx context.Context, id string) error {
	for _, st := range []struct {
		stream jetstream.Stream
		kind   string
	}{{s.pending, "pending"}, {s.urgent, "urgent"}} {
		m, err := st.stream.GetLastMsgForSubject(ctx, s.subject(st.kind, id))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		return st.stream.DeleteMsg(ctx, m.Sequence)
	}
	return spool.ErrNotFound
}

// Reschedule records a failed attempt: the report is published again with
// one more attempt, next and lastErr, replacing the message the attempt
// was made from, and held back by the servers until next.
func (s *Store) Reschedule(id string, next time.Time, lastErr string) error {
	h, e, err := s.claim(id)
	if err != nil {
		return fmt.Errorf("reschedule report %s: %w", id, err)
	}
	e.Attempts++
	e.NextAttempt = next.UTC()
	e.LastError = truncate(lastErr, spool.MaxLastErrorLen)
	ctx, cancel := s.ctx()
	defer cancel()
	_, kind := s.waiting(e)
	if _, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.subject(kind, id), Header: header(e), Data: e.Body}); err != nil {
		s.release(id, h)
		return fmt.Errorf("reschedule report %s: %w", id, err)
	}
	if h != nil {
		// The copy replaced the message; the acknowledgement only tidies
		// up the consumer's state.
		h.msg.Ack()
	}
	return nil
}

// Bury moves a report to the dead-letter stream: it is written there
// first, then removed from the pending stream, so a failure between the
// two leaves it in both rather than in neither.
func (s *Store) Bury(id, reason string) error {
	h, e, err := s.claim(id)
	if err != nil {
		return fmt.Errorf("bury report %s: %w", id, err)
	}
	e.LastError = truncate(reason, spool.MaxLastErrorLen)
	e.Attempts++ // the attempt that failed last, as Reschedule counts one
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.subject("dead", id), Header: header(e), Data: e.Body}); err != nil {
		s.release(id, h)
		return fmt.Errorf("bury report %s: %w", id, err)
	}
	if h != nil {
		if err := h.msg.DoubleAck(ctx); err != nil {
			return fmt.Errorf("bury report %s: remove from pending: %w", id, err)
		}
		return nil
	}
	if err := s.unqueue(ctx, id); err != nil {
		return fmt.Errorf("bury report %s: remove from pending: %w", id, err)
	}
	return nil
}

// Revive moves a dead report back to the pending stream, due at now with
// no attempts counted: written there first, then removed from the dead
// stream.
func (s *Store) Revive(id string, now time.Time) error {
	e, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("revive report %s: %w", id, err)
	}
	if !e.Dead {
		return fmt.Errorf("revive report %s: %w: it is pending", id, spool.ErrInvalid)
	}
	e.Attempts, e.LastError, e.NextAttempt, e.Dead = 0, "", now.UTC(), false
	ctx, cancel := s.ctx()
	defer cancel()
	_, kind := s.waiting(e)
	if _, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.subject(kind, id), Header: header(e), Data: e.Body}); err != nil {
		return fmt.Errorf("revive report %s: %w", id, err)
	}
	if err := s.dead.Purge(ctx, jetstream.WithPurgeSubject(s.subject("dead", id))); err != nil {
		return fmt.Errorf("revive report %s: remove from dead: %w", id, err)
	}
	return nil
}

// Purge deletes a dead report for good.
func (s *Store) Purge(id string) error {
	e, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("purge report %s: %w", id, err)
	}
	if !e.Dead {
		return fmt.Errorf("purge report %s: %w: it is pending", id, spool.ErrInvalid)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.dead.Purge(ctx, jetstream.WithPurgeSubject(s.subject("dead", id))); err != nil {
		return fmt.Errorf("purge report %s: %w", id, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Conn says how to reach the cluster; see [Connect].
type Conn struct {
	URLs                      []string
	CredsFile                 string
	CAFile, CertFile, KeyFile string
	// Log, if set, is told of disconnections and reconnections.
	Log *slog.Logger
}

// Connect connects to the cluster. The connection reconnects for ever,
// to whichever server answers; writes fail while no server does.
func Connect(c Conn) (*nats.Conn, error) {
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{
		nats.Name("reportline-relay"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("disconnected from the NATS cluster; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to the NATS cluster", "server", nc.ConnectedUrlRedacted())
		}),
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to the NATS cluster: %w", err)
	}
	return nc, nil
}

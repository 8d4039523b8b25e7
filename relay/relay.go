// Package relay implements the relay's HTTP API, as specified in
// docs/relay-api.md: it serves the loader and the report frame, checks each
// encrypted report, and stores it durably before it answers.
//
// The relay never sees plaintext: a body is accepted only if it is a
// well-formed age envelope for the site's hotline, sent with a proof of
// work (pow). It never stores or logs a client's address: only
// relay/ratelimit reads it, to key per-client limits by a rotating keyed
// hash held in memory.
package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/httpedge"
	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/internal/quietlog"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
	"github.com/reportline/reportline/report"
)

// Server is the relay's HTTP handler.
type Server struct {
	// cfg is swapped whole by SetConfig; a handler reads it once, with
	// s.config(), and uses that snapshot to the end of the request.
	cfg            atomic.Pointer[config.Config]
	metrics        metrics.Recorder
	metricsHandler http.Handler
	spool          store.Acceptor
	assets         *Assets
	log            *slog.Logger
	mux            *http.ServeMux
	stored         func() // called after each newly stored report
	nowFunc        func() time.Time
	quiet          quietlog.Limiter // of the rejection lines
	def            *defenses
	mailbox        Mailboxes // nil: follow-up is off
}

// New returns the relay's handler. stored is called after each newly
// stored report, to wake the forwarder; it may be nil.
func New(cfg *config.Config, sp store.Acceptor, assets *Assets, log *slog.Logger, stored func()) *Server {
	s := &Server{metrics: metrics.Discard, spool: sp, assets: assets, log: log, stored: stored, nowFunc: time.Now, def: newDefenses(cfg)}
	s.cfg.Store(cfg)
	if s.stored == nil {
		s.stored = func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /embed.js", func(w http.ResponseWriter, r *http.Request) { s.assets.Loader().ServeHTTP(w, r) })
	mux.HandleFunc("GET /a/{file}", s.serveAsset)
	mux.HandleFunc("GET /w/{site}", s.serveFrame)
	mux.HandleFunc("POST /v1/sites/{site}/reports/{id}", s.acceptReport)
	mux.HandleFunc("GET /v1/sites/{site}/challenge", s.issueChallenge)
	mux.HandleFunc("OPTIONS /v1/sites/{site}/reports/{id}", s.preflight("POST"))
	mux.HandleFunc("OPTIONS /v1/sites/{site}/challenge", s.preflight("GET"))
	mux.HandleFunc("/v1/sites/{site}/reports/{id}", methodNotAllowed("POST, OPTIONS"))
	mux.HandleFunc("/v1/sites/{site}/challenge", methodNotAllowed("GET, HEAD, OPTIONS"))
	mux.HandleFunc("POST /v1/hotlines/{hotline}/replies", s.acceptPost)
	mux.HandleFunc("/v1/hotlines/{hotline}/replies", methodNotAllowed("POST"))
	mux.HandleFunc("POST /v1/sites/{site}/mailbox", s.fetchReplies)
	mux.HandleFunc("OPTIONS /v1/sites/{site}/mailbox", s.preflight("POST"))
	mux.HandleFunc("/v1/sites/{site}/mailbox", methodNotAllowed("POST, OPTIONS"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	for _, path := range []string{"/embed.js", "/a/{file}", "/w/{site}", "/healthz", "/readyz", "/metrics"} {
		mux.HandleFunc(path, methodNotAllowed("GET, HEAD"))
	}
	mux.HandleFunc("GET /v1/sites/{site}/embed", s.serveEmbedConfig)
	mux.HandleFunc("OPTIONS /v1/sites/{site}/embed", s.serveEmbedConfig)
	mux.HandleFunc("/v1/sites/{site}/embed", methodNotAllowed("GET, HEAD, OPTIONS"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.New(http.StatusNotFound, "not-found", "No such endpoint",
			"the relay has no endpoint "+r.Method+" "+r.URL.Path+"; see docs/relay-api.md"))
	})
	s.mux = mux
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w = httpedge.CloseOnRefusal(w, r)
	if p := httpedge.Check(w, r, MaxHeaderBytes); p != nil {
		s.reject(w, p)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets.File("/a/" + r.PathValue("file"))
	if !ok {
		problem.Write(w, problem.New(http.StatusNotFound, "not-found", "No such file",
			"this relay has no file "+r.URL.Path+"; the page that asked for it may be from an older version: reload it"))
		return
	}
	if loader, _ := s.assets.PinnedLoader(); r.URL.Path == loader {
		// A partner page checks a pinned loader's integrity, which a
		// browser does for a script from another origin only with CORS.
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	a.ServeHTTP(w, r)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.config() == nil {
		problem.Write(w, problem.New(http.StatusServiceUnavailable, "not-ready", "Not ready", "no configuration is loaded"))
		return
	}
	if err := s.spool.Writable(); err != nil {
		// Anyone can ask: one line a second.
		if ok, skipped := s.quiet.Allow("not-ready", s.nowFunc()); ok {
			s.log.Error("not ready: spool not writable", quietlog.Args(skipped, "err", err)...)
		}
		problem.Write(w, problem.New(http.StatusServiceUnavailable, "not-ready", "Not ready", "the spool is not writable"))
		return
	}
	io.WriteString(w, "ready\n")
}

// Receipt is the relay's answer to an accepted report.
type Receipt struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Received  string `json:"received"` // the day, YYYY-MM-DD, UTC
}

// storeRetryAfter is the Retry-After of a report the store could not
// take: at most the form's own limit for waiting by itself (30 s), so that
// it sends the report again once without the reporter.
const storeRetryAfter = 15 * time.Second

// acceptReport checks a report and stores it. The checks that need no
// body come first, cheapest first, so that a flood without work costs the
// relay a few header comparisons and one hash; the body is read only with
// a valid proof of work, which is spent on this report and held by this
// request before the first byte is read (reserveProof).
func (s *Server) acceptReport(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// Over HTTP/1, a refusal before the body is read closes the
	// connection, so that net/http answers at once instead of first
	// reading the rest of the body, and a slow sender is not waited for.
	// (HTTP/2 resets the stream instead; there the header would close
	// every other stream of the connection too.)
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
	cfg := s.config()
	site := cfg.Site(r.PathValue("site"))
	if site == nil {
		s.reject(w, unknownSite(r.PathValue("site")))
		return
	}
	hotline := cfg.Hotline(site.Hotline)
	allowFrame(w, r, cfg, site)
	id := r.PathValue("id")
	if u, err := uuid.Parse(id); err != nil || u.Version() != 4 || u.String() != id {
		s.reject(w, problem.New(http.StatusBadRequest, "bad-report-id", "Bad report id",
			"the report id in the path must be a random UUID in lower-case canonical form"))
		return
	}
	if p := s.foreignOrigin(r, cfg, site); p != nil {
		s.reject(w, p)
		return
	}
	if ct := r.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/octet-stream" {
		s.reject(w, problem.New(http.StatusUnsupportedMediaType, "bad-content-type", "Unsupported content type",
			"send the age envelope as application/octet-stream"))
		return
	}
	if r.ContentLength > report.MaxEnvelope {
		s.reject(w, tooLarge())
		return
	}
	if p := s.def.limit(s.def.reports, r); p != nil {
		s.reject(w, p)
		return
	}
	proof, p := s.verifyProof(r, site.ID)
	if p != nil {
		s.reject(w, p)
		return
	}
	done, p := s.reserveProof(proof, id)
	if p != nil {
		s.reject(w, p)
		return
	}
	defer done()
	leave, p := s.def.enterBody(r)
	if p != nil {
		s.reject(w, p)
		return
	}
	defer leave()
	if ok, wait := s.def.total.Take(); !ok {
		s.reject(w, busy(wait))
		return
	}
	if !s.def.inflight.TryEnter() {
		s.reject(w, busy(time.Second))
		return
	}
	defer s.def.inflight.Leave()
	body, p := s.readBody(w, r)
	if p != nil {
		s.reject(w, p)
		return
	}
	w.Header().Del("Connection")
	rc := hotline.ParsedRecipients()
	if err := report.CheckEnvelope(body, rc.Kind(), rc.Len()); err != nil {
		s.reject(w, problem.New(http.StatusUnprocessableEntity, "bad-envelope", "Not a report envelope",
			strings.TrimPrefix(err.Error(), report.ErrEnvelope.Error()+": ")+
				"; the widget seals reports to the hotline's current keys: reload the form"))
		return
	}
	if r.Header.Get(HeaderTrap) != "" {
		s.honeypot(w, id)
		return
	}
	now := s.nowFunc().UTC().Truncate(time.Second)
	entry := spool.Entry{ID: id, Hotline: hotline.ID, Site: site.ID, Received: now, Body: body}
	entry.Urgent = hotline.Urgent() && r.Header.Get(HeaderPriority) == "urgent"
	e, created, err := s.spool.Put(entry)
	switch {
	case errors.Is(err, spool.ErrConflict):
		s.reject(w, problem.New(http.StatusConflict, "id-conflict", "Report id already used",
			"a different report was already stored under this id; make a new id"))
		return
	case err != nil:
		s.log.Error("failed to store report", "err", err)
		// The form waits this long and sends again by itself, once: long
		// enough for a NATS cluster to elect a new leader.
		p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Relay cannot store reports right now",
			"nothing was stored; send the report again in a moment")
		p.RetryAfter = storeRetryAfter
		problem.Write(w, p)
		return
	}
	if created {
		s.metrics.Inc(metrics.Accepted, hotline.ID)
		s.log.Info("report accepted", "site", site.ID, "hotline", hotline.ID, "bytes", len(body))
		s.def.difficulty.NoteReport()
		s.stored()
	}
	writeReceipt(w, Receipt{ID: e.ID, Reference: report.Reference(e.ID), Received: e.Received.Format(time.DateOnly)})
	if created {
		s.metrics.Observe(metrics.AcceptTime, "", time.Since(start))
	}
}

// readBody reads the whole body, at most report.MaxEnvelope bytes, and
// cuts it off if it arrives slower than the minimum rate.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *problem.Problem) {
	return s.readBodyUpTo(w, r, report.MaxEnvelope, tooLarge())
}

// readBodyUpTo reads the whole body, at most limit bytes (else it answers
// tooBig), and cuts it off if it arrives slower than the minimum rate:
// the body of every route, so that none lets a sender hold a connection
// for the read timeout with a byte now and then.
func (s *Server) readBodyUpTo(w http.ResponseWriter, r *http.Request, limit int64, tooBig *problem.Problem) ([]byte, *problem.Problem) {
	g := httpedge.GuardRate(w, http.MaxBytesReader(w, r.Body, limit), s.def.bodyGrace, s.def.minRate)
	body, err := io.ReadAll(g)
	cut := g.Stop()
	var maxBytes *http.MaxBytesError
	switch {
	case err == nil:
		return body, nil
	case errors.As(err, &maxBytes):
		return nil, tooBig
	case errors.Is(err, os.ErrDeadlineExceeded) && cut:
		return nil, problem.New(http.StatusRequestTimeout, "body-timeout", "Body too slow",
			"the request body arrived slower than "+itoa(s.def.minRate)+" bytes a second; nothing was stored: send it again")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, problem.New(http.StatusRequestTimeout, "body-timeout", "Body too slow",
			"the request body did not arrive within the relay's read timeout; nothing was stored: send it again")
	default:
		return nil, problem.New(http.StatusBadRequest, "incomplete-body", "Incomplete body",
			"the request body could not be read to its end; send it again")
	}
}

func writeReceipt(w http.ResponseWriter, rc Receipt) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(rc)
}

// foreignOrigin refuses a request from a page other than the relay's own
// report frame. A request without Origin (not from a browser's fetch) is
// let through: the proof of work, not the origin, keeps scripts out.
// The frame a site's hotline hosts (hotline.frame_origin) is let through
// too.
func (s *Server) foreignOrigin(r *http.Request, cfg *config.Config, site *config.Site) *problem.Problem {
	if len(r.Header.Values("Origin")) > 1 {
		return problem.New(http.StatusForbidden, "foreign-origin", "Foreign origin",
			"the request has more than one Origin header, which no browser sends")
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == cfg.Relay.PublicURL {
		return nil
	}
	if fo := frameOrigin(cfg, site); fo != "" && origin == fo {
		return nil
	}
	return problem.New(http.StatusForbidden, "foreign-origin", "Foreign origin",
		"reports are accepted only from the report frame, the relay's own or the one the site's hotline hosts")
}

func unknownSite(site string) *problem.Problem {
	return problem.New(http.StatusNotFound, "unknown-site", "Unknown site",
		"no site "+quote(site)+" is registered on this relay; check data-site in the embed snippet")
}

func tooLarge() *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Report too large",
		"a report envelope is at most "+itoa(report.MaxEnvelope)+" bytes")
}

// methodNotAllowed answers a known path asked with the wrong method.
func methodNotAllowed(allow string) http.HandlerFunc { return httpedge.MethodNotAllowed(allow) }

// bodyTooLarge is the answer to a body over limit bytes on a route that
// takes JSON.
func bodyTooLarge(limit int) *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Body too large",
		"the body is larger than this endpoint's limit of "+itoa(limit)+" bytes; nothing was read or stored")
}

// reject logs a rejection by its reason only, and answers it.
func (s *Server) reject(w http.ResponseWriter, p *problem.Problem) {
	s.noteRejection(p.Name(), p.Status)
	problem.Write(w, p)
}

// noteRejection logs (and counts) a refused report by its reason only:
// never its sender, its body or its proof of work. Anyone can cause a
// rejection at will, so the log has one line a second of each reason
// (package quietlog); the metrics count every one.
func (s *Server) noteRejection(reason string, status int) {
	s.metrics.Inc(metrics.Rejected, reason)
	if ok, skipped := s.quiet.Allow(reason, s.nowFunc()); ok {
		s.log.Info("report rejected", quietlog.Args(skipped, "reason", reason, "status", status)...)
	}
}

func quote(s string) string {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(s)
	return strings.TrimSpace(b.String())
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

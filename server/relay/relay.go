// Package relay implements the relay's HTTP API, as specified in
// docs/relay-api.md: it serves the loader and the report frame, checks each
// encrypted report, and stores it durably before it answers.
//
// The relay never sees plaintext: a body is accepted only if it is a
// well-formed age envelope for the site's hotline. It never stores or logs
// a client's address: nothing in this package reads RemoteAddr.
package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/server/config"
	"github.com/reportline/reportline/server/problem"
	"github.com/reportline/reportline/server/spool"
)

// Server is the relay's HTTP handler.
type Server struct {
	cfg     *config.Config
	spool   *spool.Spool
	assets  *Assets
	log     *slog.Logger
	mux     *http.ServeMux
	stored  func() // called after each newly stored report
	nowFunc func() time.Time
}

// New returns the relay's handler. stored is called after each newly
// stored report, to wake the forwarder; it may be nil.
func New(cfg *config.Config, sp *spool.Spool, assets *Assets, log *slog.Logger, stored func()) *Server {
	s := &Server{cfg: cfg, spool: sp, assets: assets, log: log, stored: stored, nowFunc: time.Now}
	if s.stored == nil {
		s.stored = func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /embed.js", func(w http.ResponseWriter, r *http.Request) { s.assets.embedJS.serve(w, r) })
	mux.HandleFunc("GET /a/{file}", s.serveAsset)
	mux.HandleFunc("GET /w/{site}", s.serveWidget)
	mux.HandleFunc("POST /v1/sites/{site}/reports/{id}", s.acceptReport)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.ready)
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
	s.mux.ServeHTTP(w, r)
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets.hashed["/a/"+r.PathValue("file")]
	if !ok {
		problem.Write(w, problem.New(http.StatusNotFound, "not-found", "No such file",
			"this relay has no file "+r.URL.Path+"; the page that asked for it may be from an older version: reload it"))
		return
	}
	a.serve(w, r)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.spool.Writable(); err != nil {
		s.log.Error("not ready: spool not writable", "err", err)
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

func (s *Server) acceptReport(w http.ResponseWriter, r *http.Request) {
	site := s.cfg.Site(r.PathValue("site"))
	if site == nil {
		s.reject(w, problem.New(http.StatusNotFound, "unknown-site", "Unknown site",
			"no site "+quote(r.PathValue("site"))+" is registered on this relay; check data-site in the embed snippet"))
		return
	}
	hotline := s.cfg.Hotline(site.Hotline)
	id := r.PathValue("id")
	if u, err := uuid.Parse(id); err != nil || u.Version() != 4 || u.String() != id {
		s.reject(w, problem.New(http.StatusBadRequest, "bad-report-id", "Bad report id",
			"the report id in the path must be a random UUID in lower-case canonical form"))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != s.cfg.Relay.PublicURL {
		s.reject(w, problem.New(http.StatusForbidden, "foreign-origin", "Foreign origin",
			"reports are accepted only from the relay's own report frame"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		s.reject(w, problem.New(http.StatusUnsupportedMediaType, "bad-content-type", "Unsupported content type",
			"send the age envelope as application/octet-stream"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, report.MaxEnvelope))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.reject(w, problem.New(http.StatusRequestEntityTooLarge, "too-large", "Report too large",
				"a report envelope is at most "+itoa(report.MaxEnvelope)+" bytes"))
			return
		}
		s.reject(w, problem.New(http.StatusBadRequest, "incomplete-body", "Incomplete body",
			"the request body could not be read to its end; send it again"))
		return
	}
	rc := hotline.ParsedRecipients()
	if err := report.CheckEnvelope(body, rc.Kind(), rc.Len()); err != nil {
		s.reject(w, problem.New(http.StatusUnprocessableEntity, "bad-envelope", "Not a report envelope",
			strings.TrimPrefix(err.Error(), report.ErrEnvelope.Error()+": ")+
				"; the widget seals reports to the hotline's current keys: reload the form"))
		return
	}
	now := s.nowFunc().UTC().Truncate(time.Second)
	e, created, err := s.spool.Put(spool.Entry{ID: id, Hotline: hotline.ID, Site: site.ID, Received: now, Body: body})
	switch {
	case errors.Is(err, spool.ErrConflict):
		s.reject(w, problem.New(http.StatusConflict, "id-conflict", "Report id already used",
			"a different report was already stored under this id; make a new id"))
		return
	case err != nil:
		s.log.Error("failed to store report", "err", err)
		p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Relay cannot store reports right now",
			"nothing was stored; send the report again in a minute")
		p.RetryAfter = time.Minute
		problem.Write(w, p)
		return
	}
	if created {
		s.log.Info("report accepted", "site", site.ID, "hotline", hotline.ID, "bytes", len(body))
		s.stored()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(Receipt{ID: e.ID, Reference: report.Reference(e.ID), Received: e.Received.Format(time.DateOnly)})
}

// reject logs a rejection by its reason only, and answers it.
func (s *Server) reject(w http.ResponseWriter, p *problem.Problem) {
	s.log.Info("report rejected", "reason", p.Name(), "status", p.Status)
	problem.Write(w, p)
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

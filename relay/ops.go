package relay

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/report"
)

// config returns the configuration in force. A handler calls it once and
// keeps the snapshot to the end of its request, so that a reload never
// mixes two configurations in one answer.
func (s *Server) config() *config.Config { return s.cfg.Load() }

// SetConfig puts a new, validated configuration in force, atomically:
// requests under way finish with the one they started with, and the next
// request sees the new one. Nothing is dropped. The relay's listener, spool
// and assets are not changed by it; see config.NeedsRestart.
func (s *Server) SetConfig(cfg *config.Config) {
	if cfg == nil {
		return
	}
	s.cfg.Store(cfg)
}

// SetMetrics makes the relay count accepted and rejected reports with rec,
// and, if h is not nil, serve h at GET /metrics. Call it before serving.
// With a nil h (the default: metrics on a separate listener, or none),
// /metrics is not found.
func (s *Server) SetMetrics(rec metrics.Recorder, h http.Handler) {
	if rec == nil {
		rec = metrics.Discard
	}
	s.metrics = rec
	s.metricsHandler = h
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsHandler == nil {
		problem.Write(w, problem.New(http.StatusNotFound, "not-found", "No such endpoint",
			"this relay does not serve /metrics on this address; its operator reads them on relay.metrics_listen"))
		return
	}
	s.metricsHandler.ServeHTTP(w, r)
}

// EmbedConfig is the answer of GET /v1/sites/{site}/embed: what the loader
// needs to draw a site's button and open its report frame. It holds public
// values only.
type EmbedConfig struct {
	Site string `json:"site"`
	// Frame is the report frame's URL, without its query.
	Frame   string       `json:"frame"`
	Theme   config.Theme `json:"theme"`
	Hotline EmbedHotline `json:"hotline"`
	// Locales are the languages the relay has a message catalogue for.
	Locales []string `json:"locales"`
}

// EmbedHotline is the public part of a hotline's configuration.
type EmbedHotline struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Languages are the hotline's languages, preferred first.
	Languages       []string `json:"languages"`
	EmergencyNumber string   `json:"emergencyNumber,omitempty"`
	ReportPage      string   `json:"reportPage,omitempty"`
}

// serveEmbedConfig answers GET /v1/sites/{site}/embed, a CORS request from
// the loader on a partner's page. Only a page whose origin is registered
// for the site gets the site's settings; any other gets a problem it can
// read (so the loader can show it in the console) naming its origin and
// what to ask the relay's operator.
func (s *Server) serveEmbedConfig(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Set("Vary", "Origin")
	if origin != "" {
		// Errors too are readable by the page, so its owner learns why.
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if cfg == nil {
		problem.Write(w, problem.New(http.StatusServiceUnavailable, "not-ready", "Not ready", "no configuration is loaded"))
		return
	}
	site := cfg.Site(r.PathValue("site"))
	switch {
	case site == nil:
		problem.Write(w, problem.New(http.StatusNotFound, "unknown-site", "Unknown site",
			"no site "+quote(r.PathValue("site"))+" is registered on this relay; check data-site in the embed snippet, "+
				"or ask the relay's operator for your site id"))
		return
	case origin == "":
		problem.Write(w, problem.New(http.StatusForbidden, "foreign-origin", "Origin not registered",
			"the request has no Origin header; this endpoint answers the loader on a registered page "+
				"(to try it by hand, send Origin: with your page's origin)"))
		return
	case !slices.Contains(site.Origins, origin):
		problem.Write(w, problem.New(http.StatusForbidden, "foreign-origin", "Origin not registered",
			"the origin "+quote(origin)+" is not registered for site "+quote(site.ID)+
				"; ask the relay's operator to add it to the site's origins"))
		return
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hl := cfg.Hotline(site.Hotline)
	frameURL := cfg.Relay.PublicURL + "/w/" + site.ID
	if hl.FrameOrigin != "" {
		frameURL = hl.FrameOrigin
	}
	out := EmbedConfig{
		Site: site.ID, Frame: frameURL, Theme: site.Theme, Locales: report.Locales(),
		Hotline: EmbedHotline{
			ID: hl.ID, Name: hl.Name, Languages: hl.Languages,
			EmergencyNumber: hl.EmergencyNumber, ReportPage: hl.ReportPage,
		},
	}
	b, _ := json.Marshal(out)
	h.Set("Content-Type", "application/json")
	// Short, so a theme change reaches every page within minutes.
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(append(b, '\n'))
}

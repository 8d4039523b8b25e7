package relay

import (
	"net/http"
	"strings"

	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/relay/config"
)

// A hotline that hosts the report frame itself (hotline.frame_origin,
// written by `hotline publish`) has the browser call the report API from
// that origin: a cross-origin request, which the relay answers with CORS
// for that one origin and no other. Cookies are never involved: the form
// sends none (credentials "omit") and the relay allows none.

// frameHeaders are the request headers the form sends with a report or a
// follow-up fetch, besides those a browser always allows.
var frameHeaders = strings.Join([]string{"Content-Type", HeaderProof, HeaderTrap, HeaderPriority}, ", ")

// frameOrigin returns the origin of the frame the site's hotline hosts,
// or "" where the relay serves the frame itself.
func frameOrigin(cfg *config.Config, site *config.Site) string {
	if h := cfg.Hotline(site.Hotline); h != nil {
		return h.FrameOrigin
	}
	return ""
}

// allowFrame marks the answer readable by the frame the site's hotline
// hosts, when the request comes from it, before anything is written: a
// refusal too, so that the form can say why, and the Date and
// Retry-After headers, which the form reads to time its proofs of work
// and its retries.
func allowFrame(w http.ResponseWriter, r *http.Request, cfg *config.Config, site *config.Site) {
	fo := frameOrigin(cfg, site)
	if fo == "" {
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if r.Header.Get("Origin") == fo {
		h.Set("Access-Control-Allow-Origin", fo)
		h.Set("Access-Control-Expose-Headers", "Date, Retry-After")
	}
}

// preflight answers a browser's CORS preflight (OPTIONS) for a route of
// the report API that the frame a hotline hosts calls with method. Only
// that frame's origin, asking for that method, is allowed; anything else
// gets a problem without CORS headers, which the browser treats as a
// refusal.
func (s *Server) preflight(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := s.config()
		site := cfg.Site(r.PathValue("site"))
		if site == nil {
			problem.Write(w, unknownSite(r.PathValue("site")))
			return
		}
		fo, origin := frameOrigin(cfg, site), r.Header.Get("Origin")
		h := w.Header()
		h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
		switch {
		case fo == "" || origin != fo:
			problem.Write(w, problem.New(http.StatusForbidden, "foreign-origin", "Foreign origin",
				"the report API answers only the report frame of the site's hotline; "+quote(origin)+" is not its origin"))
			return
		case r.Header.Get("Access-Control-Request-Method") != method:
			w.Header().Set("Allow", method+", OPTIONS")
			problem.Write(w, problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				"use "+method+" for "+r.URL.Path))
			return
		}
		h.Set("Access-Control-Allow-Origin", fo)
		h.Set("Access-Control-Allow-Methods", method)
		h.Set("Access-Control-Allow-Headers", frameHeaders)
		// Chromium keeps a preflight at most two hours, Firefox one day.
		h.Set("Access-Control-Max-Age", "7200")
		w.WriteHeader(http.StatusNoContent)
	}
}

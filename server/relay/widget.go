package relay

import (
	"bytes"
	"net/http"
	"slices"
	"strings"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/server/problem"
)

// widgetConfig is what the report frame's module needs, written into the
// page as JSON. It holds public values only.
type widgetConfig struct {
	Site         string   `json:"site"`
	Hotline      string   `json:"hotline"`
	Recipients   []string `json:"recipients"`
	Categories   []string `json:"categories"`
	Endpoint     string   `json:"endpoint"`
	Module       string   `json:"module"`
	Locale       string   `json:"locale"`
	ParentOrigin string   `json:"parentOrigin"`
}

type widgetPage struct {
	Locale, Dir string
	Form        *report.Form
	Config      widgetConfig
	Emergency   string
	ReportPage  string
}

func (s *Server) serveWidget(w http.ResponseWriter, r *http.Request) {
	site := s.cfg.Site(r.PathValue("site"))
	if site == nil {
		problem.Write(w, problem.New(http.StatusNotFound, "unknown-site", "Unknown site",
			"no site "+quote(r.PathValue("site"))+" is registered on this relay; check data-site in the embed snippet"))
		return
	}
	parent := r.URL.Query().Get("o")
	if parent != "" && !slices.Contains(site.Origins, parent) {
		problem.Write(w, problem.New(http.StatusForbidden, "foreign-origin", "Origin not registered",
			"the page at "+quote(parent)+" is not registered for site "+quote(site.ID)+"; ask the relay operator to add it to the site's origins"))
		return
	}
	h := s.cfg.Hotline(site.Hotline)
	form := h.Form()
	locale := pickLocale(r.URL.Query().Get("l"))
	dir := "ltr"
	if report.RTL(locale) {
		dir = "rtl"
	}
	page := widgetPage{
		Locale: locale, Dir: dir, Form: form,
		Emergency: h.EmergencyNumber, ReportPage: h.ReportPage,
		Config: widgetConfig{
			Site: site.ID, Hotline: h.ID, Recipients: h.Recipients,
			Categories: form.Field("category").Options,
			Endpoint:   "/v1/sites/" + site.ID + "/reports/",
			Module:     s.assets.Path("widget.wasm"),
			Locale:     locale, ParentOrigin: parent,
		},
	}
	var buf bytes.Buffer
	if err := s.assets.widget[locale].Execute(&buf, page); err != nil {
		s.log.Error("failed to render the report frame", "err", err)
		problem.Write(w, problem.New(http.StatusInternalServerError, "internal", "Internal error", "the form could not be shown"))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "+
		"connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors "+strings.Join(site.Origins, " "))
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	w.Write(buf.Bytes())
}

// pickLocale returns the best catalog for a BCP 47 tag or a list of them.
func pickLocale(tag string) string {
	have := report.Locales()
	for _, t := range strings.Split(tag, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if slices.Contains(have, t) {
			return t
		}
		if base, _, _ := strings.Cut(t, "-"); slices.Contains(have, base) {
			return base
		}
	}
	return report.DefaultLocale
}

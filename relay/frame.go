package relay

import (
	"bytes"
	"net/http"
	"slices"
	"strings"

	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/web/frame"
)

// serveFrame serves the report frame's page for a site (package frame).
func (s *Server) serveFrame(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	site := cfg.Site(r.PathValue("site"))
	if site == nil {
		frame.Error(w, r, problem.New(http.StatusNotFound, "unknown-site", "Unknown site",
			"no site "+quote(r.PathValue("site"))+" is registered on this relay; check data-site in the embed snippet"), "")
		return
	}
	h := cfg.Hotline(site.Hotline)
	if h.FrameOrigin != "" {
		// The hotline serves its frame itself: the relay does not serve
		// another, whose code and keys the hotline did not choose.
		frame.Error(w, r, problem.New(http.StatusNotFound, "frame-elsewhere", "Frame served by the hotline",
			"the hotline of site "+quote(site.ID)+" serves the report form itself, at "+h.FrameOrigin+
				"; the embed snippet needs data-frame with the address the hotline gives (docs/site-owners.md)"), h.ReportPage)
		return
	}
	parent := r.URL.Query().Get("o")
	if parent != "" && !slices.Contains(site.Origins, parent) {
		frame.Error(w, r, problem.New(http.StatusForbidden, "foreign-origin", "Origin not registered",
			"the page at "+quote(parent)+" is not registered for site "+quote(site.ID)+"; ask the relay operator to add it to the site's origins"), h.ReportPage)
		return
	}
	form := h.Form()
	locale := frame.PickLocale(r.URL.Query().Get("l"), h.Languages)
	dir := "ltr"
	if report.RTL(locale) {
		dir = "rtl"
	}
	ft := s.assets.frames[locale]
	page := frame.Page{
		Locale: locale, Dir: dir, Form: form, Languages: frame.Languages(s.assets.frames, locale), Messages: ft.Catalog(),
		Emergency: h.EmergencyNumber, ReportPage: h.ReportPage,
		ReportRemove: slices.Contains(h.RemovalServices, "report_remove"),
		Config: frame.Config{
			Site: site.ID, Hotline: h.ID, Statement: h.StatementText(),
			Categories: form.Field("category").Options,
			Endpoint:   "/v1/sites/" + site.ID + "/reports/",
			Challenge:  "/v1/sites/" + site.ID + "/challenge",
			Module:     s.assets.Path("widget.wasm"),
			Mailbox:    s.mailboxPath(site.ID, h.StatementKey),
			Locale:     locale, ParentOrigin: parent, Messages: frame.MessageURLs(s.assets.Path),
			Urgent: h.Urgent(),
		},
	}
	var buf bytes.Buffer
	if err := ft.Execute(&buf, &page); err != nil {
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
	frame.WriteCompressed(w, r, buf.Bytes())
}

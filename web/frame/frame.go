// Package frame renders the report frame's page: the form, in the
// reporter's language, from the frame template in package snippet, with
// what the module needs written into it; and the page a person reads when
// the frame cannot be shown. The relay renders it for each request; a
// hotline that hosts its own frame writes it once per language into a
// folder (`hotline publish`). It imports nothing of the relay or the
// hotline's software, so both can use it.
package frame

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"golang.org/x/text/collate"
	xlanguage "golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/reportline/reportline/snippet"

	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/web/assets"
)

// Config is what the report frame's module needs, written into the
// page as JSON. It holds public values only.
type Config struct {
	Site    string `json:"site"`
	Hotline string `json:"hotline"`
	// Statement is the hotline's signed key statement. The module seals
	// only to its recipients, and only if it verifies against a key that
	// does not come from here (docs/key-statement.md).
	Statement  string   `json:"statement"`
	Categories []string `json:"categories"`
	Endpoint   string   `json:"endpoint"`
	Challenge  string   `json:"challenge"`
	// Mailbox is where the reporter's follow-up fetches go; empty where
	// the relay keeps no mailboxes. Replies are verified with the same
	// key as the statement, never one from here (docs/follow-up.md).
	Mailbox      string `json:"mailbox,omitempty"`
	Module       string `json:"module"`
	Locale       string `json:"locale"`
	ParentOrigin string `json:"parentOrigin"`
	// Messages are the URLs of every locale's catalog, for switching
	// language without losing what was typed.
	Messages map[string]string `json:"messages"`
	// Urgent says the form may mark an urgent report for the relay
	// (hotline.urgent_marker).
	Urgent bool `json:"urgent,omitempty"`

	// The fields below are set only in a frame the hotline publishes
	// (`hotline publish`), never by the relay.

	// Relay is the relay's origin. Its presence tells the boot script
	// that the page is the same for every site: it takes the site and
	// the partner's origin from the frame's address and puts the site
	// in Endpoint, Challenge and Mailbox, in place of "{site}".
	Relay string `json:"relay,omitempty"`
	// HotlineKey is the hotline's verification key, which the statement
	// must verify against, as must the snippet's data-hotline-key.
	HotlineKey string `json:"hotlineKey,omitempty"`
	// MinSerial is the lowest statement serial the form takes, in decimal.
	MinSerial string `json:"minSerial,omitempty"`
}

// SitePlaceholder stands for the site id in the report API's addresses
// of a published frame's configuration.
const SitePlaceholder = "{site}"

// Languages returns the entries of the frame's language menu, with
// locale selected: each locale's name in its own language.
func Languages(frames map[string]*Template, locale string) []Language {
	var langs []Language
	for _, loc := range report.Locales() {
		langs = append(langs, Language{Code: loc, Name: frames[loc].Catalog().T("lang.name"), Selected: loc == locale})
	}
	return langs
}

// MessageURLs returns the address of every locale's catalogue, for
// Config.Messages; assetPath is as for Parse.
func MessageURLs(assetPath func(name string) string) map[string]string {
	out := map[string]string{}
	for _, loc := range report.Locales() {
		out[loc] = assetPath("messages-" + loc + ".json")
	}
	return out
}

// Page is what the frame's template is executed with.
type Page struct {
	Locale, Dir string
	Form        *report.Form
	Config      Config
	Emergency   string
	ReportPage  string
	// ReportRemove offers Report Remove on the under-18 path, for a
	// hotline that lists it in removal_services.
	ReportRemove bool
	Languages    []Language
	Messages     report.Catalog
	// CSP is the page's Content-Security-Policy, written into it, for a
	// page served from a folder by a server that may not send it (a
	// published frame); empty where the server sends it as a header.
	CSP string
}

// Language is one entry of the frame's language menu.
type Language struct {
	Code, Name string
	Selected   bool
}

// Template is the frame's page for one locale, with its catalog.
type Template struct {
	tmpl *template.Template
	cat  report.Catalog
}

// Execute writes the page for p.
func (t *Template) Execute(w io.Writer, p *Page) error { return t.tmpl.Execute(w, p) }

// Catalog is the template's message catalogue.
func (t *Template) Catalog() report.Catalog { return t.cat }

// Parse parses the frame's template once per locale, each with its
// own messages and country names; assetPath gives the URL path of a named
// asset ("widget.wasm").
func Parse(assetPath func(name string) string) (map[string]*Template, error) {
	base, err := template.New("frame.html").Funcs(template.FuncMap{
		"asset":         assetPath,
		"t":             func(key string, args ...string) string { return key },
		"countries":     func() []Country { return nil },
		"today":         func() string { return time.Now().UTC().Add(14 * time.Hour).Format(time.DateOnly) },
		"join":          strings.Join,
		"kindLocations": func() report.FieldKind { return report.KindLocations },
		"kindChoice":    func() report.FieldKind { return report.KindChoice },
		"kindText":      func() report.FieldKind { return report.KindText },
		"kindDate":      func() report.FieldKind { return report.KindDate },
		"kindEmail":     func() report.FieldKind { return report.KindEmail },
		"kindYesNo":     func() report.FieldKind { return report.KindYesNo },
		"kindCountry":   func() report.FieldKind { return report.KindCountry },
		"kindCheck":     func() report.FieldKind { return report.KindCheck },
		"kindNote":      func() report.FieldKind { return report.KindNote },
		"note":          noteOf,
	}).ParseFS(snippet.Files, "frame.html")
	if err != nil {
		return nil, fmt.Errorf("failed to parse the frame template: %w", err)
	}
	out := map[string]*Template{}
	for _, loc := range report.Locales() {
		cat, err := report.LoadCatalog(loc)
		if err != nil {
			return nil, err
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		names := countryNames(loc)
		out[loc] = &Template{tmpl: t.Funcs(template.FuncMap{
			"t":         cat.T,
			"countries": func() []Country { return names },
		}), cat: cat}
	}
	return out, nil
}

// note is a form's note as the frame shows it: its paragraphs, each with
// the value it names filled in.
type note struct {
	Name  string
	Texts []noteText
}

type noteText struct{ Key, Arg, Value string }

// noteArgs are the values the notes' messages name, other than the
// hotline's emergency number: the same addresses the under-18 section
// gives.
var noteArgs = map[string][2]string{
	"under18.own_images":    {"takeitdown", "https://takeitdown.ncmec.org"},
	"under18.report_remove": {"reportremove", "https://www.childline.org.uk/remove"},
}

// noteOf prepares a note for the frame's template. A paragraph that gives
// the emergency number is left out where the hotline has none, and Report
// Remove where the hotline does not offer it.
func noteOf(f report.Field, p *Page) note {
	emergency := p.Emergency
	n := note{Name: f.Name}
	for _, key := range f.Texts {
		if key == "under18.report_remove" && !p.ReportRemove {
			continue
		}
		t := noteText{Key: key}
		if a, ok := noteArgs[key]; ok {
			t.Arg, t.Value = a[0], a[1]
		}
		if key == "guidance.emergency" {
			if emergency == "" {
				continue
			}
			t.Arg, t.Value = "emergency", emergency
		}
		n.Texts = append(n.Texts, t)
	}
	return n
}

// Country is one option of a country menu.
type Country struct{ Code, Name string }

// countryNames returns every country of report.Countries with its name
// in the locale, sorted as that language sorts.
func countryNames(locale string) []Country {
	tag := xlanguage.Make(locale)
	names := display.Regions(tag)
	out := make([]Country, 0, len(report.Countries))
	for _, code := range report.Countries {
		name := code
		if r, err := xlanguage.ParseRegion(code); err == nil {
			if n := names.Name(r); n != "" {
				name = n
			}
		}
		out = append(out, Country{Code: code, Name: name})
	}
	col := collate.New(tag)
	slices.SortFunc(out, func(a, b Country) int { return col.CompareString(a.Name, b.Name) })
	return out
}

// WriteCompressed writes a page made for this request, compressed as the
// client accepts. The frame's page is some 40 KB of HTML; on a phone's
// link, compressing it matters more than the millisecond it costs.
func WriteCompressed(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	accepts := r.Header.Get("Accept-Encoding")
	var out bytes.Buffer
	switch {
	case assets.AcceptsEncoding(accepts, "br"):
		bw := brotli.NewWriterLevel(&out, 5)
		bw.Write(body)
		bw.Close()
		h.Set("Content-Encoding", "br")
	case assets.AcceptsEncoding(accepts, "gzip"):
		zw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
		zw.Write(body)
		zw.Close()
		h.Set("Content-Encoding", "gzip")
	default:
		w.Write(body)
		return
	}
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.Write(out.Bytes())
}

// PickLocale returns the best catalog for a BCP 47 tag or a list of them
// (the embed's data-locale or the visitor's browser languages), else for
// the hotline's own languages, else the default.
func PickLocale(tag string, hotlineLangs []string) string {
	have := report.Locales()
	if l := matchLocale(strings.Split(tag, ","), have); l != "" {
		return l
	}
	if l := matchLocale(hotlineLangs, have); l != "" {
		return l
	}
	return report.DefaultLocale
}

// matchLocale returns the catalog in have for the first of the wanted
// tags that has one, or "". For each tag, in this order: the catalog of
// that very tag ("pt-BR"), one for a group of countries that holds the
// tag's country ("es-419" for "es-MX"), then the language's own ("pt"
// for "pt-PT"). Tags are compared without regard to case.
func matchLocale(wanted, have []string) string {
	for _, w := range wanted {
		w, _, _ = strings.Cut(w, ";") // a q-value, as in Accept-Language
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if i := slices.IndexFunc(have, func(h string) bool { return strings.EqualFold(h, w) }); i >= 0 {
			return have[i]
		}
		base, rest, _ := strings.Cut(w, "-")
		if region := tagRegion(rest); region != nil {
			for _, h := range have {
				hb, hr, ok := strings.Cut(h, "-")
				if !ok || !strings.EqualFold(hb, base) {
					continue
				}
				if group := tagRegion(hr); group != nil && group.IsGroup() && group.Contains(*region) {
					return h
				}
			}
		}
		if i := slices.IndexFunc(have, func(h string) bool { return strings.EqualFold(h, base) }); i >= 0 {
			return have[i]
		}
	}
	return ""
}

// tagRegion returns the region of a tag's subtags after the language
// ("Latn-BR", "419"), or nil if there is none.
func tagRegion(subtags string) *xlanguage.Region {
	for _, p := range strings.Split(subtags, "-") {
		if len(p) == 2 || len(p) == 3 && p[0] >= '0' && p[0] <= '9' {
			if r, err := xlanguage.ParseRegion(p); err == nil {
				return &r
			}
		}
	}
	return nil
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body><main><h1>The report form cannot be shown here</h1>
<p>{{.Detail}}.</p>
{{if .ReportPage}}<p>You can report on the hotline's own website: <a href="{{.ReportPage}}" target="_blank" rel="noopener">{{.ReportPage}}</a></p>{{end}}
</main></body></html>
`))

// Error answers a frame request that cannot be served. A browser
// loading the frame gets a short page a person can read, with the
// hotline's own report page where it is known; anything else gets the
// problem as JSON.
func Error(w http.ResponseWriter, r *http.Request, p *problem.Problem, reportPage string) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		problem.Write(w, p)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(p.Status)
	errorPage.Execute(w, map[string]string{"Title": p.Title, "Detail": p.Detail, "ReportPage": reportPage})
}

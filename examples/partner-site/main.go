// Command partner-site serves the example partner page that embeds the
// report button, as a site owner's page would. It is what `make demo`
// opens.
//
// The page at / embeds the button with the defaults. The page at /themed
// passes its query's locale, label, color, position, target and exit on as the
// loader's data- attributes, and has an element with the id "report-slot"
// for target, so that the tests can try each option (docs/site-owners.md);
// its query's key, if present, replaces the hotline key (even by none).
package main

import (
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

//go:embed index.html
var indexHTML string

//go:embed site.css
var siteCSS []byte

//go:embed partner.js
var partnerJS []byte

// page is what index.html shows: the loader's script tag with its data-
// attributes, where empty ones are left out.
type page struct {
	RelayURL, Site, ReportPage             string
	HotlineKey, Frame                      string
	Themed                                 bool
	Locale, Label, Color, Position, Target string
	Exit                                   string
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	relay := flag.String("relay", "http://127.0.0.1:8081", "the relay's public URL")
	site := flag.String("site", "demo-site", "the site id registered on the relay")
	reportPage := flag.String("report-page", "https://hotline.example.org/report", "the hotline's own report page, linked for visitors without JavaScript")
	hotlineKey := flag.String("hotline-key", "", "the hotline's hlvk_… verification key, for data-hotline-key")
	frameURL := flag.String("frame", "", "the address of the frame the hotline hosts, for data-frame (default: the relay's frame)")
	flag.Parse()
	frameSrc := *relay
	if *frameURL != "" {
		u, err := url.Parse(*frameURL)
		if err != nil || u.Host == "" {
			log.Fatalf("partner-site: -frame %q is not an address", *frameURL)
		}
		frameSrc = u.Scheme + "://" + u.Host
	}

	tmpl := template.Must(template.New("index").Parse(indexHTML))
	var index bytes.Buffer
	if err := tmpl.Execute(&index, page{RelayURL: *relay, Site: *site, ReportPage: *reportPage, HotlineKey: *hotlineKey, Frame: *frameURL}); err != nil {
		log.Fatal(err)
	}
	// The CSP a partner needs: the relay for the loader, for the settings
	// it asks the relay for on the first sign of intent, and the frame's
	// origin (the relay's, or the hotline's with -frame).
	csp := "default-src 'self'; script-src 'self' " + *relay + "; connect-src 'self' " + *relay +
		"; frame-src " + frameSrc + "; style-src 'self'"
	html := func(w http.ResponseWriter, b []byte) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { html(w, index.Bytes()) })
	mux.HandleFunc("GET /themed", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		key := *hotlineKey
		if q.Has("key") {
			key = q.Get("key")
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, page{
			RelayURL: *relay, Site: *site, ReportPage: *reportPage, Themed: true,
			Locale: q.Get("locale"), Label: q.Get("label"), Color: q.Get("color"),
			Position: q.Get("position"), Target: q.Get("target"), HotlineKey: key,
			Exit: q.Get("exit"), Frame: *frameURL,
		}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		html(w, b.Bytes())
	})
	mux.HandleFunc("GET /site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write(siteCSS)
	})
	mux.HandleFunc("GET /partner.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(partnerJS)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "partner-site: error: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "partner-site listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// Command partner-site serves the example partner page that embeds the
// report button, as a site owner's page would. It is what `make demo`
// opens.
package main

import (
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"text/template"
	"time"
)

//go:embed index.html
var indexHTML string

//go:embed site.css
var siteCSS []byte

//go:embed partner.js
var partnerJS []byte

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	relay := flag.String("relay", "http://127.0.0.1:8081", "the relay's public URL")
	site := flag.String("site", "demo-site", "the site id registered on the relay")
	flag.Parse()

	var page bytes.Buffer
	if err := template.Must(template.New("index").Parse(indexHTML)).Execute(&page, map[string]string{"RelayURL": *relay, "Site": *site}); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// The CSP a partner needs: the relay for the loader and the frame.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+*relay+"; frame-src "+*relay+"; style-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
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

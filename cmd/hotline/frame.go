package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/reportline/reportline/hotline/publish"
	"github.com/reportline/reportline/internal/httpedge"
	"github.com/reportline/reportline/web/assets"
)

// publishCmd writes the folder the hotline serves the report frame from
// (package publish).
func publishCmd(stdout io.Writer, args []string) error {
	f := flag.NewFlagSet("publish", flag.ContinueOnError)
	o := publish.Options{}
	var stFile, langs, cats string
	f.StringVar(&o.Relay, "relay", "", "the relay's origin, its public_url: where the form sends reports")
	f.StringVar(&stFile, "statement", os.Getenv("HOTLINE_STATEMENT"), "the hotline's signed key statement (env HOTLINE_STATEMENT)")
	f.StringVar(&o.VerificationKey, "statement-key", os.Getenv("HOTLINE_STATEMENT_KEY"), "the hlvk_… key the statement verifies against (env HOTLINE_STATEMENT_KEY)")
	f.StringVar(&o.Assets, "assets", "build/assets", "the folder make build wrote (`DIR`), with widget.wasm and wasm_exec.js")
	f.StringVar(&langs, "languages", "", "the hotline's languages, preferred first, separated by commas (default en)")
	f.StringVar(&cats, "categories", "", "the report categories in the hotline's remit, separated by commas (default all)")
	f.StringVar(&o.EmergencyNumber, "emergency-number", "", "the emergency number the form gives")
	f.StringVar(&o.ReportPage, "report-page", "", "the hotline's own report page, for browsers without WebAssembly")
	f.BoolVar(&o.ReportRemove, "report-remove", false, "offer Report Remove (UK) on the under-18 path")
	f.BoolVar(&o.FollowUp, "follow-up", false, "offer follow-up codes: the relay keeps mailboxes (relay.mailbox)")
	f.BoolVar(&o.NoUrgentMarker, "no-urgent-marker", false, "do not mark urgent reports for the relay (as urgent_marker = false)")
	pos, err := interspersed(f, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || o.Relay == "" || stFile == "" || o.VerificationKey == "" {
		return errors.New("usage: hotline publish -relay URL -statement FILE -statement-key hlvk_… [-assets DIR] [-languages de,en] DIR")
	}
	if o.Statement, err = os.ReadFile(stFile); err != nil {
		return err
	}
	if langs != "" {
		o.Languages = strings.Split(langs, ",")
	}
	if cats != "" {
		o.Categories = strings.Split(cats, ",")
	}
	if err := publish.Write(pos[0], o); err != nil {
		if errors.Is(err, publish.ErrExists) {
			return hint{err, "publish never overwrites: write a new folder and point the server at it"}
		}
		return err
	}
	fmt.Fprintf(stdout, `Wrote %s. Serve it on an origin of the hotline's own, over HTTPS (hotline serve-frame, or any static server), and:
  - set frame_origin to that origin in the relay's [[hotline]] (docs/config.md);
  - give partners data-frame="https://…/" (the folder's address) with data-hotline-key (docs/site-owners.md);
  - have the server send these headers with the .html pages (docs/deployment.md):
      Content-Security-Policy: frame-ancestors <your partners' origins>
      Cross-Origin-Opener-Policy: same-origin
      Referrer-Policy: no-referrer
`, pos[0])
	return nil
}

// interspersed parses flags before or after the positional arguments.
func interspersed(f *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		if f.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, f.Arg(0))
		args = f.Args()[1:]
	}
}

// serveFrame serves a folder `hotline publish` wrote.
func serveFrame(args []string) error {
	f := flag.NewFlagSet("serve-frame", flag.ContinueOnError)
	listen := f.String("listen", "127.0.0.1:8083", "address to serve the frame on")
	maxConns := f.Int("max-connections", 4096, "the most connections held open; at the bound the longest idle is closed for a new one")
	ancestors := f.String("frame-ancestors", "", "the partner origins that may show the form, separated by spaces (its CSP frame-ancestors)")
	pos, err := interspersed(f, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *ancestors == "" {
		return errors.New(`usage: hotline serve-frame -frame-ancestors "https://partner.example …" [-listen ADDR] DIR`)
	}
	h, err := frameHandler(pos[0], *ancestors)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return hint{fmt.Errorf("failed to listen: %w", err),
			"another program listens there (another serve-frame, or a demo still running): stop it, or give -listen another address"}
	}
	if err != nil {
		return err
	}
	if *maxConns < 1 {
		return fmt.Errorf("-max-connections %d: give at least 1", *maxConns)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	srv, ln := frameServer(h, ln, *maxConns)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("serving the report frame", "addr", ln.Addr().String(), "folder", pos[0])
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// frameMaxHeaderBytes is the most request line and header bytes
// serve-frame takes: a browser's request for a page or a file carries well
// under 8 KB.
const frameMaxHeaderBytes = 16 << 10

// frameServer is the http.Server serve-frame serves h with, and ln with
// at most maxConns connections held open (httpedge.ConnLimit).
func frameServer(h http.Handler, ln net.Listener, maxConns int) (*http.Server, net.Listener) {
	lim := &httpedge.ConnLimit{Max: maxConns}
	return &http.Server{
		ConnState: lim.ConnState,
		// Oversized headers, dot segments and compressed bodies are
		// refused with a problem before a file is looked up.
		Handler: httpedge.Guard(h, frameMaxHeaderBytes),
		// The frame's files are small but for the module, which a slow
		// phone may take a minute to download.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Where net/http itself stops reading headers (431 in plain
		// text); up to it, Guard answers with a problem.
		MaxHeaderBytes: 4 * frameMaxHeaderBytes,
		// net/http's own error lines name client addresses: keep them out.
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
		// "OPTIONS *" reaches the handler, which refuses it with a
		// problem, instead of net/http's empty 200.
		DisableGeneralOptionsHandler: true,
	}, lim.Listener(ln)
}

// frameHandler serves the published folder dir from memory: the pages
// with the headers a frame needs (frame-ancestors, which their own <meta>
// policy cannot carry), the hashed files immutable, brotli or gzip as the
// browser accepts. Nothing about a request is logged.
func frameHandler(dir, ancestors string) (http.Handler, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return nil, hint{fmt.Errorf("failed to serve the frame: %w", err), "give a folder written by `hotline publish`"}
	}
	files := map[string]http.Handler{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext == ".br" || ext == ".gz" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := filepath.Base(p)
		cache := "no-cache"
		if strings.HasPrefix(filepath.ToSlash(rel), "a/") {
			cache = assets.Immutable
		}
		files["/"+filepath.ToSlash(rel)] = assets.StaticFile(name, b, cache, assets.ReadPrecompressed(filepath.Dir(p), name, b))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to serve the frame: %w", err)
	}
	files["/"] = files["/index.html"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httpedge.MethodNotAllowed("GET, HEAD")(w, r)
			return
		}
		f, ok := files[r.URL.Path]
		if !ok {
			httpedge.NotFound("this frame server")(w, r)
			return
		}
		if r.URL.Path == "/" || strings.HasSuffix(r.URL.Path, ".html") {
			h.Set("Content-Security-Policy", "frame-ancestors "+ancestors)
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		}
		f.ServeHTTP(w, r)
	}), nil
}

package main

import (
	"context"
	"crypto/tls"
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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reportline/reportline/internal/httpedge"
	"github.com/reportline/reportline/relay"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/metrics"
)

func serve(args []string) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	cf := addConfigFlags(flags, true)
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		err := fmt.Errorf("unexpected argument %q: relay serve takes only flags (relay serve -h)", flags.Arg(0))
		if strings.HasSuffix(flags.Arg(0), ".toml") {
			return hint{err, "name the configuration with -config: relay serve -config " + flags.Arg(0)}
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return run(ctx, runOptions{path: *cf.path, overrides: cf.overrides(), reload: hup, logOut: os.Stderr})
}

// runOptions are what run needs from the process; tests pass their own.
type runOptions struct {
	path      string
	overrides []config.Override
	// reload receives a value for each SIGHUP.
	reload <-chan os.Signal
	logOut io.Writer
	// onListen, if set, is told each listener's name ("http", "redirect",
	// "metrics", "admin") and address once it listens.
	onListen func(name, addr string)
	// ready, if set, is called once every listener listens.
	ready func()
}

// process is a running relay: what a reload changes and a shutdown stops.
type process struct {
	opts    runOptions
	cfg     *config.Config // in force; only the run loop touches it
	log     *slog.Logger
	level   *slog.LevelVar
	spool   *openedStore
	srv     *relay.Server
	fwd     *forward.Forwarder
	metrics *metrics.Prometheus
	certs   *certFiles // nil unless TLS comes from files

	servers []*http.Server
	errc    chan error
}

// noConfigHint says what to do when the configuration file is missing.
const noConfigHint = "write one with `relay init -statement FILE -statement-key hlvk_…` (docs/deployment.md), " +
	"or pass -config FILE or set RELAY_CONFIG"

// run runs the relay until ctx is done, then drains it. A listener that
// fails stops it with that error.
func run(ctx context.Context, o runOptions) error {
	cfg, err := config.Load(o.path, o.overrides...)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hint{err, noConfigHint}
	case err != nil:
		return hint{err, "fix the value named above; `relay check-config " + o.path + "` checks a file without starting"}
	}
	p := &process{opts: o, cfg: cfg, level: new(slog.LevelVar), errc: make(chan error, 8)}
	p.level.UnmarshalText([]byte(cfg.Relay.LogLevel))
	p.log = newLogger(o.logOut, cfg.Relay.LogFormat, p.level)
	eps, err := endpoints(cfg)
	if err != nil {
		return err
	}
	assets, err := relay.LoadAssets(cfg.Relay.Assets)
	if err != nil {
		return err
	}
	// Opening may take a while: a large spool file is read whole, and
	// compacted if a drained backlog left it mostly free.
	p.log.Info("opening the report store", "store", cfg.Relay.StoreName())
	if p.spool, err = openStore(cfg, p.log); err != nil {
		return err
	}
	defer p.spool.Close()

	p.metrics = metrics.New(p.spool)
	if c, ok := p.spool.Store.(metrics.CommitSource); ok {
		// The bbolt spool; JetStream's commits are its servers' own.
		p.metrics.ReadCommits(c)
	}
	p.fwd = &forward.Forwarder{
		Spool: p.spool, Log: p.log, Metrics: p.metrics,
		MinBackoff: cfg.Relay.RetryMin.Duration, MaxBackoff: cfg.Relay.RetryMax.Duration,
		MaxAge: cfg.Relay.MaxDeliveryAge.Duration, Workers: cfg.Relay.DeliveryWorkers,
	}
	p.fwd.SetEndpoints(eps)
	p.srv = relay.New(cfg, p.spool, assets, p.log, p.fwd.Notify)
	if pr := p.spool.proofs; pr != nil {
		key, err := pr.Key()
		if err == nil {
			err = p.srv.ShareProofs(key, pr)
		}
		if err != nil {
			return err
		}
	}
	p.log.Info("report store", "store", cfg.Relay.StoreName())
	p.metrics.ReadPoWDifficulty(func() float64 { return float64(p.srv.Difficulty()) })
	p.metrics.Set(metrics.ConfigLoaded, "", 1)
	statementsInForce(cfg, p.metrics, p.log, time.Now())
	if cfg.Relay.MetricsOnListen {
		p.srv.SetMetrics(p.metrics, p.metrics.Handler())
	} else {
		p.srv.SetMetrics(p.metrics, nil)
	}

	if cfg.Relay.Mailbox != "" {
		mb, err := p.spool.openMailboxes(cfg, p.log)
		if err != nil {
			return err
		}
		p.srv.SetMailbox(mb)
		sctx, stopSweep := context.WithCancel(context.Background())
		defer stopSweep()
		go sweepMailbox(sctx, mb, p.log)
	}

	if err := p.listen(); err != nil {
		p.stopServers(time.Second)
		return err
	}
	if o.ready != nil {
		o.ready()
	}
	fctx, stopForwarder := context.WithCancel(context.Background())
	fdone := make(chan struct{})
	go func() { defer close(fdone); p.fwd.Run(fctx) }()

	for {
		select {
		case <-o.reload:
			p.reload()
			continue
		case err = <-p.errc:
			p.log.Error("a listener failed: stopping", "err", err)
		case <-ctx.Done():
		}
		break
	}
	p.shutdown(stopForwarder, fdone)
	return err
}

// listen opens every listener the configuration asks for and serves on
// each in its own goroutine; a failure is sent to p.errc.
func (p *process) listen() error {
	cfg := p.cfg
	var handler http.Handler = p.srv
	var tc *tls.Config
	var redirect http.Handler
	if cfg.Relay.TLS.Enabled() {
		var err error
		if tc, redirect, p.certs, err = setupTLS(cfg); err != nil {
			return err
		}
		handler = hsts(handler, cfg.Relay.TLS.HSTSMaxAge.Duration)
	}
	main := relay.NewHTTPServer(handler, relay.DefaultTimeouts, p.log)
	main.TLSConfig = tc
	if err := p.serveOn("http", cfg.Relay.Listen, main, tc != nil); err != nil {
		return err
	}
	if addr := cfg.Relay.TLS.HTTPListen; addr != "" {
		rs := relay.NewHTTPServer(redirect, redirectTimeouts, p.log)
		if err := p.serveOn("redirect", addr, rs, false); err != nil {
			return err
		}
	}
	if addr := cfg.Relay.MetricsListen; addr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", p.metrics.Handler())
		mux.Handle("GET /healthz", p.srv)
		mux.Handle("GET /readyz", p.srv)
		// Anything else is refused with a problem, as on the main listener.
		mux.HandleFunc("/", httpedge.NotFound("the metrics listener"))
		for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
			mux.HandleFunc(path, httpedge.MethodNotAllowed("GET, HEAD"))
		}
		h := httpedge.Guard(mux, relay.MaxHeaderBytes)
		if err := p.serveOn("metrics", addr, relay.NewHTTPServer(h, relay.DefaultTimeouts, p.log), false); err != nil {
			return err
		}
	}
	if path := cfg.Relay.AdminSocket; path != "" {
		ln, err := listenUnix(path)
		if err != nil {
			return fmt.Errorf("relay.admin_socket: %w", err)
		}
		as := relay.NewHTTPServer(adminHandler(p.spool, p.fwd, p.log), relay.DefaultTimeouts, p.log)
		p.start("admin", ln, as, false)
	}
	return nil
}

// redirectTimeouts are short: the redirect listener answers each request
// with a few bytes.
var redirectTimeouts = relay.Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 10 * time.Second, Idle: 30 * time.Second}

// serveOn serves s on addr, holding at most relay.max_connections
// connections open (httpedge.ConnLimit), and counts on /metrics those it
// closed for new ones and those it refused.
func (p *process) serveOn(name, addr string, s *http.Server, useTLS bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		err = fmt.Errorf("failed to listen on %s (%s): %w", addr, name, err)
		if errors.Is(err, syscall.EADDRINUSE) {
			key := map[string]string{"http": "relay.listen (-listen)", "redirect": "relay.tls.http_listen", "metrics": "relay.metrics_listen"}[name]
			return hint{err, "another program listens there (another relay, or a demo still running): stop it, or set " + key + " to another address"}
		}
		return err
	}
	lim := &httpedge.ConnLimit{Max: p.cfg.Relay.MaxConnections}
	s.ConnState = lim.ConnState
	labels := prometheus.Labels{"listener": name}
	p.metrics.Registry().MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reportline_connections_evicted_total", ConstLabels: labels,
			Help: "Connections closed, without a request under way, to make room for a new one at relay.max_connections."},
			func() float64 { return float64(lim.Evicted()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reportline_connections_refused_total", ConstLabels: labels,
			Help: "New connections closed unanswered at relay.max_connections, every connection having a request under way."},
			func() float64 { return float64(lim.Refused()) }),
	)
	p.start(name, lim.Listener(ln), s, useTLS)
	return nil
}

func (p *process) start(name string, ln net.Listener, s *http.Server, useTLS bool) {
	p.servers = append(p.servers, s)
	go func() {
		var err error
		if useTLS {
			err = s.ServeTLS(ln, "", "")
		} else {
			err = s.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.errc <- fmt.Errorf("%s listener: %w", name, err)
		}
	}()
	p.log.Info("listening", "listener", name, "addr", ln.Addr().String(), "tls", useTLS)
	if p.opts.onListen != nil {
		p.opts.onListen(name, ln.Addr().String())
	}
}

// statementSoon is how long before a hotline's key statement expires the
// relay starts to warn: time for the hotline to sign the next one and for
// the relay's operator to put it in place.
const statementSoon = 14 * 24 * time.Hour

// statementsInForce sets, for each hotline with a key statement, when it
// expires, and warns of one that expires within statementSoon: the form
// then stops sealing reports to it, and a relay restarted with it refuses
// to start.
func statementsInForce(cfg *config.Config, m metrics.Recorder, log *slog.Logger, now time.Time) {
	for _, h := range cfg.Hotlines {
		st := h.KeyStatement()
		if st == nil {
			continue
		}
		m.Set(metrics.StatementValidUntil, h.ID, float64(st.ValidUntil.Unix()))
		if left := st.ValidUntil.Sub(now); left < statementSoon {
			log.Warn("the hotline's key statement expires soon: the report form stops sending then, and the relay will not start with it; "+
				"ask the hotline for the next one (docs/key-statement.md#rotation-and-rollback)",
				"hotline", h.ID, "serial", st.Serial, "valid_until", st.ValidUntil.Format(time.RFC3339), "days_left", int(left.Hours()/24))
		}
	}
}

// reload reads the configuration and every file it names again, and puts
// it in force only if all of it is good; otherwise the configuration in
// force stays, and the log says why. Requests under way are not touched.
func (p *process) reload() {
	cfg, err := config.Load(p.opts.path, p.opts.overrides...)
	var eps map[string]forward.Endpoint
	if err == nil {
		eps, err = endpoints(cfg)
	}
	if err == nil && p.certs != nil {
		err = p.certs.load()
	}
	if err == nil {
		// A hotline's keys move forward only: an older statement put
		// back into the file is refused.
		err = cfg.CheckRollback(p.cfg)
	}
	if err != nil {
		p.metrics.Inc(metrics.ConfigReloads, "error")
		p.metrics.Inc(metrics.Alarms, "config_reload_failed")
		p.log.Error("reload failed: the configuration in force is kept", "err", err)
		return
	}
	if keys := cfg.NeedsRestart(p.cfg); len(keys) > 0 {
		p.log.Warn("reload: these keys changed but take effect only after a restart", "keys", keys)
	}
	p.level.UnmarshalText([]byte(cfg.Relay.LogLevel))
	p.srv.SetConfig(cfg)
	p.fwd.SetEndpoints(eps)
	p.cfg = cfg
	statementsInForce(cfg, p.metrics, p.log, time.Now())
	p.metrics.Inc(metrics.ConfigReloads, "ok")
	p.log.Info("configuration reloaded", "hotlines", len(cfg.Hotlines), "sites", len(cfg.Sites))
}

// shutdown stops accepting connections, lets requests and deliveries
// under way finish within relay.shutdown_timeout, and then waits for the
// forwarder, whose deliveries each end within their delivery_timeout.
func (p *process) shutdown(stopForwarder context.CancelFunc, fdone <-chan struct{}) {
	timeout := p.cfg.Relay.ShutdownTimeout.Duration
	p.log.Info("shutting down: draining requests and deliveries", "timeout", timeout.String())
	stopForwarder()
	p.stopServers(timeout)
	select {
	case <-fdone:
	case <-time.After(timeout):
		p.log.Warn("deliveries still under way after relay.shutdown_timeout; waiting for each to end (at most relay.delivery_timeout); they stay in the spool until acknowledged")
		<-fdone
	}
	p.log.Info("stopped")
}

func (p *process) stopServers(timeout time.Duration) {
	// A fresh context: the signal's is already cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range p.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil {
				p.log.Warn("requests still under way after relay.shutdown_timeout were cut", "err", err)
				s.Close()
			}
		}()
	}
	wg.Wait()
}

func newLogger(w io.Writer, format string, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// sweepMailbox removes replies past their retention, at start and then
// every hour, until ctx ends.
func sweepMailbox(ctx context.Context, mb mailboxStore, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := mb.Sweep(time.Now()); err != nil {
			log.Error("mailbox sweep failed", "err", err)
		} else if n > 0 {
			log.Info("unread replies expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Command relay runs the report relay: it serves the embed loader and the
// report frame, accepts encrypted reports, stores them durably and forwards
// them, signed, to each hotline's intake.
//
// Usage:
//
//	relay serve -config relay.toml     run the relay (the default command)
//	relay check-config relay.toml      validate a configuration and exit
//	relay keygen -o relay-signing.key  make a delivery signing key
//	relay precompress build/assets     write .gz and .br beside the built module
//
// See docs/deployment.md and docs/config.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reportline/reportline/server/config"
	"github.com/reportline/reportline/server/forward"
	"github.com/reportline/reportline/server/relay"
	"github.com/reportline/reportline/server/spool"
	"github.com/reportline/reportline/server/webhook"
)

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "check-config":
		err = checkConfig(args)
	case "keygen":
		err = keygen(args)
	case "precompress":
		if len(args) != 1 {
			err = errors.New("usage: relay precompress ASSETS-DIR")
		} else {
			err = relay.Precompress(args[0])
		}
	case "help":
		usage(os.Stdout)
	default:
		usage(os.Stderr)
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "relay: error: %v\n", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  relay serve -config relay.toml     run the relay
  relay check-config relay.toml      validate a configuration and exit
  relay keygen -o relay-signing.key  make a delivery signing key
  relay precompress build/assets     write .gz and .br beside the built module
`)
}

func checkConfig(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: relay check-config FILE")
	}
	cfg, err := config.Load(args[0])
	if err != nil {
		return err
	}
	fmt.Printf("%s: ok (%d hotlines, %d sites)\n", args[0], len(cfg.Hotlines), len(cfg.Sites))
	return nil
}

func keygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the secret signing key to (must not exist)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("usage: relay keygen -o FILE")
	}
	sk, pk, err := webhook.GenerateEd25519()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create key file: %w", err)
	}
	fmt.Fprintf(f, "# relay delivery signing key; the hotline's intake verifies with:\n# %s\n%s\n", pk, sk)
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println(pk)
	return nil
}

func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("failed to read signing key: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
	return "", fmt.Errorf("no key in %s", path)
}

func newLogger(format, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", envOr("RELAY_CONFIG", "relay.toml"), "configuration file (env RELAY_CONFIG)")
	listen := fs.String("listen", os.Getenv("RELAY_LISTEN"), "override relay.listen (env RELAY_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Relay.Listen = *listen
	}
	log := newLogger(cfg.Relay.LogFormat, cfg.Relay.LogLevel)
	key, err := readKey(cfg.Relay.SigningKeyFile)
	if err != nil {
		return err
	}
	signer, err := webhook.NewEd25519Signer(key)
	if err != nil {
		return fmt.Errorf("relay.signing_key_file: %w", err)
	}
	assets, err := relay.LoadAssets(cfg.Relay.Assets)
	if err != nil {
		return err
	}
	sp, err := spool.Open(cfg.Relay.Spool)
	if err != nil {
		return err
	}
	defer sp.Close()

	fwd := &forward.Forwarder{
		Spool: sp, Signer: signer, Log: log,
		// A hotline that does not answer within 30 s is treated as down.
		Client: &http.Client{Timeout: 30 * time.Second},
		IntakeURL: func(id string) (string, bool) {
			h := cfg.Hotline(id)
			if h == nil {
				return "", false
			}
			return h.IntakeURL, true
		},
		MinBackoff: cfg.Relay.RetryMin.Duration, MaxBackoff: time.Hour,
		MaxAge: cfg.Relay.MaxDeliveryAge.Duration, Workers: 4,
	}
	srv := &http.Server{
		Handler: relay.New(cfg, sp, assets, log, fwd.Notify),
		// Slow-header clients hold a connection for nothing: cut them early.
		ReadHeaderTimeout: 5 * time.Second,
		// A report body is at most ~100 KB; a minute is ample on a poor
		// mobile link, and bounds slow-body attacks.
		ReadTimeout: time.Minute,
		// The largest response is the module, about 1 MB compressed.
		WriteTimeout: 2 * time.Minute,
		// Idle keep-alive connections cost memory; browsers reconnect.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       relay.ErrorLog(log),
	}
	ln, err := net.Listen("tcp", cfg.Relay.Listen)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); fwd.Run(ctx) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("relay listening", "addr", ln.Addr().String(), "public_url", cfg.Relay.PublicURL)

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
		// A fresh context: the signal's is already cancelled.
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Command hotline holds the hotline's tools: it makes the hotline's age
// keys, runs the intake that receives signed deliveries from a relay, and
// opens a delivered report for reading.
//
// Usage:
//
//	hotline keygen -o identity.txt [-classic]   make an age identity, print its public key
//	hotline intake -identity identity.txt -inbox DIR -verify-key whpk_… [-listen ADDR]
//	hotline open [-identity identity.txt] FILE  print one report readably
//
// See docs/hotline.md.
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
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/server/intake"
	"github.com/reportline/reportline/server/webhook"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "keygen":
		err = keygen(args)
	case "intake":
		err = runIntake(args)
	case "open":
		err = open(args)
	case "help", "-h", "-help", "--help":
		usage(os.Stdout)
	default:
		usage(os.Stderr)
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hotline: error: %v\n", err)
		var h hint
		if errors.As(err, &h) {
			fmt.Fprintf(os.Stderr, "hotline: hint: %s\n", h.hint)
		}
		os.Exit(1)
	}
}

type hint struct {
	error
	hint string
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  hotline keygen -o identity.txt [-classic]     make an age identity; prints the public key
  hotline intake -identity FILE -inbox DIR -verify-key whpk_… [-listen ADDR] [-hotline ID]
  hotline open [-identity FILE] REPORT          print a delivered report (.age or .json)
`)
}

func keygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the secret identity to (must not exist)")
	classic := fs.Bool("classic", false, "make a classic X25519 key instead of the post-quantum hybrid default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("usage: hotline keygen -o FILE [-classic]")
	}
	var secret, public string
	if *classic {
		k, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		secret, public = k.String(), k.Recipient().String()
	} else {
		k, err := age.GenerateHybridIdentity()
		if err != nil {
			return err
		}
		secret, public = k.String(), k.Recipient().String()
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return hint{fmt.Errorf("failed to create identity file: %w", err), "keygen never overwrites a key: choose a new file name"}
	}
	fmt.Fprintf(f, "# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), public, secret)
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println(public)
	return nil
}

func loadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hint{fmt.Errorf("failed to open identity file: %w", err), "make one with `hotline keygen -o " + path + "`"}
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("failed to read identity file %s: %w", path, err)
	}
	return ids, nil
}

func runIntake(args []string) error {
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve the intake on")
	idPath := fs.String("identity", "", "the hotline's age identity file")
	inbox := fs.String("inbox", "inbox", "folder to keep delivered reports in")
	verify := fs.String("verify-key", os.Getenv("HOTLINE_VERIFY_KEY"), "the relay's whpk_… public key or a whsec_… secret; several separated by commas (env HOTLINE_VERIFY_KEY)")
	hotlineID := fs.String("hotline", "", "this hotline's id; deliveries for another are refused")
	path := fs.String("path", "/v1/deliveries", "URL path deliveries are POSTed to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *idPath == "" || *verify == "" {
		return errors.New("usage: hotline intake -identity FILE -verify-key whpk_… [-inbox DIR] [-listen ADDR]")
	}
	ids, err := loadIdentities(*idPath)
	if err != nil {
		return err
	}
	v, err := webhook.NewVerifier(strings.Split(*verify, ",")...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*inbox, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	mux := http.NewServeMux()
	mux.Handle(*path, &intake.Intake{Verifier: v, Inbox: *inbox, Identities: ids, Hotline: *hotlineID, Log: log})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("intake listening", "addr", ln.Addr().String(), "path", *path, "inbox", *inbox)
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func open(args []string) error {
	fs := flag.NewFlagSet("open", flag.ContinueOnError)
	idPath := fs.String("identity", os.Getenv("HOTLINE_IDENTITY"), "the hotline's age identity file, for .age files (env HOTLINE_IDENTITY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hotline open [-identity FILE] REPORT")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var r *report.Report
	if strings.HasSuffix(fs.Arg(0), ".json") {
		r, err = parseOpened(b)
	} else {
		if *idPath == "" {
			return hint{errors.New("an .age report needs the hotline's identity"), "pass -identity FILE"}
		}
		ids, err2 := loadIdentities(*idPath)
		if err2 != nil {
			return err2
		}
		r, _, err = report.Open(b, ids...)
	}
	if err != nil {
		return err
	}
	printReport(os.Stdout, r)
	return nil
}

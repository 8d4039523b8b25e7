// Command hotline holds the hotline's tools: it makes the hotline's age
// keys, runs the intake that receives signed deliveries from a relay, and
// opens a delivered report for reading.
//
// Usage:
//
//	hotline keygen -o identity.txt [-classic]   make an age identity, print its public key
//	hotline keygen -sign -o signing.key        make the key statement signing key, print hlvk_…
//	hotline sign -key signing.key -hotline ID -serial N RECIPIENT...   sign a key statement
//	hotline intake -identity identity.txt -hotline ID -inbox DIR -verify-key whpk_… [-listen ADDR]
//	               [-statement FILE -statement-key hlvk_…]
//	               [-tls-cert FILE -tls-key FILE [-client-ca FILE]]
//	hotline open [-identity identity.txt] FILE  print one report readably
//	hotline reply -key signing.key -hotline ID -relay URL -kind KIND REPORT  reply to a reporter
//	hotline export [-inbox DIR] [-format csv|jsonl] [-o FILE]   write the inbox for other tools
//	hotline publish -relay URL -statement FILE -statement-key hlvk_… [-assets DIR] DIR   write the report frame's folder
//	hotline serve-frame -frame-ancestors ORIGINS [-listen ADDR] DIR   serve that folder
//
// See docs/deployment.md (the hotline's intake) and docs/delivery.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/inbox"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/httpedge"
	"github.com/reportline/reportline/internal/newfile"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
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
	case "export":
		err = export(os.Stdout, os.Stderr, args)
	case "sign":
		err = sign(os.Stdout, args)
	case "reply":
		err = replyCmd(os.Stdout, os.Stdin, args)
	case "publish":
		err = publishCmd(os.Stdout, args)
	case "serve-frame":
		err = serveFrame(args)
	case "help", "-h", "-help", "--help":
		usage(os.Stdout)
	default:
		usage(os.Stderr)
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the flags are printed, and asking is no error
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hotline: error: %v\n", err)
		var h interface{ Hint() string } // a hint, or a *newfile.Error
		if errors.As(err, &h) {
			fmt.Fprintf(os.Stderr, "hotline: hint: %s\n", h.Hint())
		}
		os.Exit(1)
	}
}

// hint is an error with a line of advice for the person at the terminal.
type hint struct {
	error
	hint string
}

func (h hint) Unwrap() error { return h.error }

// Hint returns the advice.
func (h hint) Hint() string { return h.hint }

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  hotline keygen -o identity.txt [-classic]     make an age identity; prints the public key
  hotline keygen -sign -o signing.key           make the offline key that signs key statements; prints hlvk_…
  hotline sign -key signing.key -hotline ID -serial N [-valid-from TIME] [-valid-for DURATION] [-o FILE] RECIPIENT...
                                                sign a key statement for the relay's configuration
  hotline intake -identity FILE -hotline ID -inbox DIR -verify-key whpk_… [-listen ADDR]
                 [-statement FILE -statement-key hlvk_…]
                 [-verify-key-file FILE] [-tls-cert FILE -tls-key FILE [-client-ca FILE]]
  hotline open [-identity FILE] REPORT          print a delivered report (.age or .json)
  hotline reply -key signing.key -hotline ID -relay URL -kind KIND [-inbox DIR] [-m TEXT] REPORT
                                                reply to a reporter who asked for follow-up; KIND is
                                                question, acknowledgement, outcome or closed
  hotline export [-inbox DIR] [-format csv|jsonl] [-o FILE]
                                                write every opened report, urgent ones too, for
                                                spreadsheets (csv) or other tools (jsonl)
  hotline publish -relay URL -statement FILE -statement-key hlvk_… [-assets DIR] [-languages de,en]
                  [-categories …] [-emergency-number N] [-report-page URL] [-follow-up] DIR
                                                write the report frame as a folder for the hotline's own
                                                web server: the relay then serves no code that seals reports
  hotline serve-frame -frame-ancestors "https://partner.example …" [-listen ADDR] DIR
                                                serve that folder (behind a TLS proxy, or for a trial)
`)
}

func keygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the secret identity to (must not exist)")
	classic := fs.Bool("classic", false, "make a classic X25519 key instead of the post-quantum hybrid default")
	signing := fs.Bool("sign", false, "make the hotline's Ed25519 key that signs key statements, instead of an age identity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("usage: hotline keygen -o FILE [-classic | -sign]")
	}
	if *signing {
		return keygenSign(os.Stdout, *out)
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
	body := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), public, secret)
	if err := newfile.Write(*out, "identity file", "keygen never overwrites a key", 0o600, body); err != nil {
		return err
	}
	fmt.Println(public)
	return nil
}

// openHint says what to do when a key file at path could not be opened:
// make it with keygen (the command given) if it is missing, or read it
// as a user allowed to.
func openHint(path string, err error, keygen string) string {
	if errors.Is(err, fs.ErrPermission) {
		return "run this as the user that owns " + path + ", or make that user its owner (chown; keep it mode 0600)"
	}
	return "make one with `" + keygen + "`, or fix the path"
}

// loadIdentities reads the identities of the files in paths, separated
// by commas (during a rotation, the old key's file and the new one's).
func loadIdentities(paths string) ([]age.Identity, error) {
	var all []age.Identity
	for _, path := range strings.Split(paths, ",") {
		ids, err := loadIdentityFile(path)
		if err != nil {
			return nil, err
		}
		all = append(all, ids...)
	}
	return all, nil
}

func loadIdentityFile(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hint{fmt.Errorf("failed to open identity file: %w", err), openHint(path, err, "hotline keygen -o "+path)}
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, hint{fmt.Errorf("failed to read identity file %s: %w", path, err),
			"give the file `hotline keygen -o` wrote, whose key line starts AGE-SECRET-KEY- (the hlsk_ signing key file is for hotline sign, and stays offline)"}
	}
	return ids, nil
}

func runIntake(args []string) error {
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	o := intakeOptions{}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8090", "address to serve the intake on")
	fs.StringVar(&o.identity, "identity", os.Getenv("HOTLINE_IDENTITY"), "the hotline's age identity file; several separated by commas during a rotation (env HOTLINE_IDENTITY)")
	fs.StringVar(&o.inbox, "inbox", "inbox", "folder to keep delivered reports in")
	fs.StringVar(&o.verifyKey, "verify-key", os.Getenv("HOTLINE_VERIFY_KEY"), "the relay's whpk_… public key; several separated by commas (env HOTLINE_VERIFY_KEY)")
	fs.StringVar(&o.verifyKeyFile, "verify-key-file", os.Getenv("HOTLINE_VERIFY_KEY_FILE"), "file with the relay's whpk_… key or the shared whsec_… secret, one per file; several separated by commas (env HOTLINE_VERIFY_KEY_FILE)")
	fs.StringVar(&o.hotline, "hotline", os.Getenv("HOTLINE_ID"), "this hotline's id, as in the relay's [[hotline]] id; deliveries for another are refused (env HOTLINE_ID)")
	fs.StringVar(&o.path, "path", "/v1/deliveries", "URL path deliveries are POSTed to")
	fs.IntVar(&o.maxConns, "max-connections", intakeMaxConns, "the most connections held open; at the bound the longest idle is closed for a new one")
	fs.StringVar(&o.statement, "statement", os.Getenv("HOTLINE_STATEMENT"), "the hotline's signed key statement; envelopes must be sealed to its recipients (default: the identities' own); during a rotation the old and the new, separated by commas (env HOTLINE_STATEMENT)")
	fs.StringVar(&o.statementKey, "statement-key", os.Getenv("HOTLINE_STATEMENT_KEY"), "the hlvk_… key the statement must verify against (env HOTLINE_STATEMENT_KEY)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate chain")
	fs.StringVar(&o.tlsKey, "tls-key", "", "and this PEM private key")
	fs.StringVar(&o.clientCA, "client-ca", "", "require a client certificate from a CA in this PEM file (mutual TLS; needs -tls-cert)")
	fs.DurationVar(&o.tolerance, "tolerance", delivery.DefaultTolerance, "how far a delivery's timestamp may be from this clock")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	srv, ln, log, err := o.setup()
	if err != nil {
		return err
	}
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveIntake(ctx, srv, ln, log)
}

// intakeOptions are the flags of `hotline intake`.
type intakeOptions struct {
	listen, identity, inbox, verifyKey, verifyKeyFile, hotline, path string
	tlsCert, tlsKey, clientCA, statement, statementKey               string
	alarmOut                                                         io.Writer
	tolerance                                                        time.Duration
	logOut                                                           io.Writer
	maxConns                                                         int // 0: intakeMaxConns
}

// setup checks the options, reads the keys and opens the listener.
func (o intakeOptions) setup() (*http.Server, net.Listener, *slog.Logger, error) {
	if o.identity == "" || (o.verifyKey == "" && o.verifyKeyFile == "") {
		return nil, nil, nil, errors.New("usage: hotline intake -identity FILE -hotline ID (-verify-key whpk_… | -verify-key-file FILE) [-inbox DIR] [-listen ADDR] [-tls-cert FILE -tls-key FILE [-client-ca FILE]]")
	}
	if o.hotline == "" {
		// Without it a relay's key would deliver any hotline's reports
		// here, and a report meant for another hotline would be kept.
		return nil, nil, nil, hint{errors.New("-hotline is required: deliveries are checked against this hotline's id"),
			"give the id of this hotline's [[hotline]] entry in the relay's configuration, e.g. -hotline de-hotline"}
	}
	if o.clientCA != "" && o.tlsCert == "" {
		return nil, nil, nil, hint{errors.New("-client-ca needs -tls-cert and -tls-key"), "mutual TLS is part of HTTPS: serve HTTPS first"}
	}
	ids, err := loadIdentities(o.identity)
	if err != nil {
		return nil, nil, nil, err
	}
	var keys []string
	if o.verifyKey != "" {
		keys = strings.Split(o.verifyKey, ",")
	}
	if o.verifyKeyFile != "" {
		for _, p := range strings.Split(o.verifyKeyFile, ",") {
			k, err := delivery.ReadKeyFile(p)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil, nil, nil, hint{fmt.Errorf("-verify-key-file: %w", err), openHint(p, err, "relay keygen -hmac -o "+p) + " (at the relay, then copy it here over a secure channel)"}
			}
			if err != nil {
				return nil, nil, nil, fmt.Errorf("-verify-key-file: %w", err)
			}
			keys = append(keys, k)
		}
	}
	v, err := delivery.NewVerifier(keys...)
	if err != nil {
		for _, k := range keys {
			if strings.HasPrefix(k, statement.VerificationKeyPrefix) {
				return nil, nil, nil, hint{err, "an hlvk_ key is the hotline's own, for -statement-key: -verify-key takes the relay's whpk_ key, which relay init or relay keygen printed"}
			}
		}
		return nil, nil, nil, hint{err, "give the relay's whpk_ public key (printed by `relay keygen`), or the whsec_ file made by `relay keygen -hmac`"}
	}
	v.Tolerance = o.tolerance
	if err := os.MkdirAll(o.inbox, 0o700); err != nil {
		return nil, nil, nil, hint{fmt.Errorf("failed to make the inbox: %w", err), inboxHint}
	}
	out := o.logOut
	if out == nil {
		out = os.Stderr
	}
	log := slog.New(slog.NewJSONHandler(out, nil))
	lock, err := lockInbox(o.inbox)
	if errors.Is(err, errInboxInUse) {
		return nil, nil, nil, hint{fmt.Errorf("inbox %s: %w", o.inbox, err),
			"stop the other intake (another terminal, or a service), or give this one its own -inbox"}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("failed to lock the inbox: %w", err)
	}
	started := false
	defer func() {
		if !started {
			lock.Close()
		}
	}()
	if n, err := intake.RemoveTemporary(o.inbox); err != nil {
		return nil, nil, nil, err
	} else if n > 0 {
		log.Info("removed the temporary files of stores a stopped intake cut short", "count", n)
	}
	if err := intake.Writable(o.inbox); err != nil {
		return nil, nil, nil, hint{err, inboxHint}
	}
	mux := http.NewServeMux()
	expect, err := o.expectedRecipients()
	if err != nil {
		return nil, nil, nil, err
	}
	alarmOut := o.alarmOut
	if alarmOut == nil {
		alarmOut = os.Stderr
	}
	in := &intake.Intake{Verifier: v, Inbox: o.inbox, Identities: ids, Hotline: o.hotline, Log: log, Expect: expect,
		Alarm: func(a *intake.Alarm) { printAlarm(alarmOut, a) }}
	mux.Handle(o.path, in)
	if o.path != "/" {
		mux.HandleFunc("/", httpedge.NotFound("this intake"))
	}
	mux.HandleFunc("/healthz", httpedge.MethodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/metrics", httpedge.MethodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeIntakeMetrics(w, in)
	})
	srv := &http.Server{
		// Oversized headers, dot segments and compressed bodies are
		// refused with a problem before the intake sees them.
		Handler: httpedge.Guard(mux, intakeMaxHeaderBytes),
		// Cut slow clients early; a delivery is at most a few hundred KB.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		// Where net/http itself stops reading headers (431 in plain
		// text); up to it, Guard answers with a problem.
		MaxHeaderBytes: 4 * intakeMaxHeaderBytes,
		// net/http's own lines (a failed TLS handshake) name the client:
		// they reach the log without its address.
		ErrorLog: httpedge.ErrorLog(log),
		// "OPTIONS *" reaches the handler, which refuses it with a
		// problem, instead of net/http's empty 200.
		DisableGeneralOptionsHandler: true,
	}
	if o.tlsCert != "" || o.tlsKey != "" {
		if srv.TLSConfig, err = intake.ServerTLS(o.tlsCert, o.tlsKey, o.clientCA); err != nil {
			return nil, nil, nil, err
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, nil, nil, hint{fmt.Errorf("failed to listen: %w", err),
			"another program listens there (another intake, or a demo still running): stop it, or give -listen another address"}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("failed to listen: %w", err)
	}
	lim := &httpedge.ConnLimit{Max: cmp.Or(o.maxConns, intakeMaxConns)}
	srv.ConnState = lim.ConnState
	ln = lim.Listener(ln)
	// The lock is held until serving ends, drain included (serveIntake):
	// net/http closes the listener as soon as it is told to stop, while
	// deliveries under way are still being stored.
	ln = lockedListener{ln, lock}
	started = true
	log.Info("intake listening", "addr", ln.Addr().String(), "path", o.path, "inbox", o.inbox,
		"tls", srv.TLSConfig != nil, "mutual_tls", o.clientCA != "", "keys", len(keys), "envelopes", expectation(expect, len(ids)))
	return srv, ln, log, nil
}

// expectation says, for the log, what envelopes the intake takes: sealed
// to as many recipients as a statement lists, or else as it holds
// identities, so that an operator who added a key to the statement and
// not to -statement sees why reports are refused.
func expectation(statements []*report.Recipients, identities int) string {
	if len(statements) == 0 {
		return fmt.Sprintf("sealed to %d recipients, one per identity in -identity (no -statement)", identities)
	}
	var counts []string
	for _, s := range statements {
		counts = append(counts, strconv.Itoa(s.Len()))
	}
	return "sealed to " + strings.Join(counts, " or ") + " recipients, as -statement lists"
}

// writeIntakeMetrics writes the intake's counts in Prometheus's text
// format. (The hotline's tool does not link a metrics library: its
// dependencies stay few.)
func writeIntakeMetrics(w io.Writer, in *intake.Intake) {
	counter := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %v\n", name, help, name, name, v)
	}
	st := in.Stats()
	counter("reportline_intake_reports_stored_total", "Reports stored in the inbox since start.", st.Stored)
	counter("reportline_intake_duplicate_deliveries_total", "Deliveries of a report already stored, answered without writing anything.", st.Duplicates)
	counter("reportline_intake_batches_total", "Batched deliveries answered 200; their reports are counted one by one in the other counters.", st.Batches)
	const refused = "reportline_intake_deliveries_refused_total"
	fmt.Fprintf(w, "# HELP %s Deliveries answered with a problem, and reports of a batch given one, by the problem's name.\n# TYPE %s counter\n", refused, refused)
	for _, name := range slices.Sorted(maps.Keys(st.Refused)) {
		fmt.Fprintf(w, "%s{problem=%q} %d\n", refused, name, st.Refused[name])
	}
	counter("reportline_intake_alarms_total", "Deliveries refused because their envelope or report does not match the hotline's keys or the signed delivery.", in.Alarms())
	counter("reportline_intake_urgent_reports_total", "Urgent reports stored in the urgent folder since start.", in.UrgentReports())
	counter("reportline_intake_flushes_total", "Flushes that made stored reports durable; one serves every report waiting when it starts.", st.Flushes)
	counter("reportline_intake_flush_failures_total", "Flushes that failed; their reports were answered 503 and the relay tries them again.", st.FlushFailures)
	counter("reportline_intake_flush_seconds_total", "Time the flushes took: its rate is the share of time the inbox's disk kept reports waiting (near 1, the disk limits the intake).",
		strconv.FormatFloat(st.FlushTime.Seconds(), 'f', -1, 64))
}

// lockedListener is the intake's listener, carrying the inbox's lock,
// which releaseInbox releases once the deliveries under way are stored.
type lockedListener struct {
	net.Listener
	lock io.Closer
}

// releaseInbox releases the inbox's lock that ln carries, if it does.
func releaseInbox(ln net.Listener) {
	if l, ok := ln.(lockedListener); ok {
		l.lock.Close()
	}
}

// errInboxInUse: another intake holds the inbox.
var errInboxInUse = errors.New("another intake is using this inbox")

// inboxHint says what to do when the inbox cannot be made or written.
const inboxHint = "give -inbox a folder the intake can make, or that is writable to it"

// intakeMaxHeaderBytes is the most request line and header bytes the
// intake takes: a delivery's headers are well under 2 KB.
const intakeMaxHeaderBytes = 16 << 10

// intakeMaxConns is the default bound on the connections the intake holds
// open (httpedge.ConnLimit): a relay delivers at most 64 reports at once
// to a hotline, so this leaves room for sixteen relays.
const intakeMaxConns = 1024

// serveIntake serves until ctx is done, then drains, and only then
// releases the inbox: a second intake started while this one drains is
// refused rather than writing beside it.
func serveIntake(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) error {
	defer releaseInbox(ln)
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		// A fresh context: the signal's is already cancelled.
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
	idPath := fs.String("identity", os.Getenv("HOTLINE_IDENTITY"), "the hotline's age identity file, for .age files; several separated by commas (env HOTLINE_IDENTITY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hotline open [-identity FILE] REPORT")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return hint{fmt.Errorf("failed to read the report: %w", err), "give a report's file in the intake's inbox: INBOX/ID.json, or INBOX/ID.age with -identity (urgent ones are in INBOX/urgent/)"}
	}
	o := &intake.Opened{}
	if strings.HasSuffix(fs.Arg(0), ".json") {
		o, err = inbox.ReadOpened(b)
	} else {
		if *idPath == "" {
			return hint{errors.New("an .age report needs the hotline's identity"), "pass -identity FILE"}
		}
		ids, err2 := loadIdentities(*idPath)
		if err2 != nil {
			return err2
		}
		o.Report, _, err = report.Open(b, ids...)
	}
	if err != nil {
		return err
	}
	inbox.Print(os.Stdout, o)
	return nil
}

// export writes every opened report of an inbox as CSV or JSON lines, to
// stdout or a file written whole.
func export(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	dir := fs.String("inbox", "inbox", "the intake's inbox folder")
	format := fs.String("format", "csv", "csv (for spreadsheets) or jsonl (one report per line, with its labels)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	write := inbox.WriteCSV
	switch *format {
	case "csv":
	case "jsonl":
		write = inbox.WriteJSONL
	default:
		return hint{fmt.Errorf("unknown format %q", *format), "use -format csv or -format jsonl"}
	}
	reports, unopened, err := inbox.List(*dir)
	if errors.Is(err, os.ErrNotExist) {
		return hint{err, "give the intake's inbox folder with -inbox DIR (the intake's own -inbox)"}
	}
	if err != nil {
		return err
	}
	if len(unopened) > 0 {
		fmt.Fprintf(stderr, "hotline: %d envelope(s) did not open and are not exported; check the identity file: %s\n",
			len(unopened), strings.Join(unopened, ", "))
	}
	if *out == "" {
		return write(stdout, reports)
	}
	var b strings.Builder
	if err := write(&b, reports); err != nil {
		return err
	}
	return intake.WriteFileAtomic(*out, []byte(b.String()), 0o600)
}

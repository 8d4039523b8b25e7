package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/hotline/inbox"
	"github.com/reportline/reportline/hotline/reply"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// replyCmd sends a reply to the reporter of a report who asked for
// follow-up (docs/follow-up.md).
func replyCmd(stdout io.Writer, stdin io.Reader, args []string) error {
	fs := flag.NewFlagSet("reply", flag.ContinueOnError)
	keyPath := fs.String("key", os.Getenv("HOTLINE_SIGNING_KEY"), "the hotline's signing key file, hlsk_… (env HOTLINE_SIGNING_KEY)")
	hotline := fs.String("hotline", os.Getenv("HOTLINE_ID"), "this hotline's id, as in the relay's [[hotline]] id (env HOTLINE_ID)")
	relayURL := fs.String("relay", os.Getenv("HOTLINE_RELAY"), "the relay's URL, https://… (env HOTLINE_RELAY)")
	kind := fs.String("kind", "", "question, acknowledgement, outcome or closed")
	dir := fs.String("inbox", "inbox", "the intake's inbox folder, where REPORT.json is")
	idPath := fs.String("identity", os.Getenv("HOTLINE_IDENTITY"), "the hotline's age identity file, for an .age report (env HOTLINE_IDENTITY)")
	msg := fs.String("m", "", "the message; without -m it is read from standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *keyPath == "" || *hotline == "" || *relayURL == "" || *kind == "" {
		return errors.New("usage: hotline reply -key signing.key -hotline ID -relay URL -kind KIND [-inbox DIR] [-m TEXT] REPORT")
	}
	b, err := os.ReadFile(*keyPath)
	if err != nil {
		return hint{fmt.Errorf("failed to read the signing key: %w", err), "the key made by `hotline keygen -sign`, whose hlvk_ is the relay's statement_key"}
	}
	key, err := statement.ParseSigningKey(b)
	if err != nil {
		return err
	}
	r, err := readReport(fs.Arg(0), *dir, *idPath)
	if err != nil {
		return err
	}
	text := *msg
	if text == "" {
		in, err := io.ReadAll(io.LimitReader(stdin, followup.MaxText+1))
		if err != nil {
			return err
		}
		text = strings.TrimRight(string(in), "\n")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s := &reply.Sender{Relay: *relayURL, Hotline: *hotline, Key: key}
	if _, err := s.Send(ctx, r, *kind, text); err != nil {
		if errors.Is(err, reply.ErrNoFollowUp) {
			return hint{err, "only reporters who asked for follow-up can be replied to"}
		}
		return err
	}
	fmt.Fprintf(stdout, "sent: %s to the reporter of %s; it waits at the relay until the reporter reads it\n", *kind, report.Reference(r.ID))
	return nil
}

// readReport reads a report from a path (.json from the inbox, or .age
// with the identity) or from its id in the inbox.
func readReport(arg, dir, idPath string) (*report.Report, error) {
	path := arg
	if !strings.HasSuffix(arg, ".json") && !strings.HasSuffix(arg, ".age") {
		if strings.ContainsAny(arg, `/\`) {
			return nil, fmt.Errorf("%q is neither a report id nor a .json or .age file", arg)
		}
		path = filepath.Join(dir, arg+".json")
		// An urgent report is in the inbox's urgent folder.
		if urgent := filepath.Join(dir, inbox.UrgentDir, arg+".json"); !exists(path) && exists(urgent) {
			path = urgent
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, hint{fmt.Errorf("failed to read the report: %w", err), "give the report's id (its inbox file name without .json) and -inbox DIR, or the file's path"}
	}
	if strings.HasSuffix(path, ".json") {
		o, err := inbox.ReadOpened(b)
		if err != nil {
			return nil, err
		}
		return o.Report, nil
	}
	if idPath == "" {
		return nil, hint{errors.New("an .age report needs the hotline's identity"), "pass -identity FILE"}
	}
	ids, err := loadIdentities(idPath)
	if err != nil {
		return nil, err
	}
	r, _, err := report.Open(b, ids...)
	return r, err
}

// exists reports whether a file is there.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Command relay runs the report relay: it serves the embed loader and the
// report frame, accepts encrypted reports, stores them durably and forwards
// them, signed, to each hotline's intake.
//
// Usage:
//
//	relay serve [-config relay.toml] [flags]   run the relay (the default command)
//	relay check-config [flags] relay.toml      validate a configuration and its files, and exit
//	relay init -statement FILE -statement-key hlvk_…  write relay.toml and a fresh signing key to start from
//	relay keygen -o relay-signing.key          make an Ed25519 delivery signing key (v1a)
//	relay keygen -hmac -o hotline.whsec        make an HMAC secret to share with one intake (v1)
//	relay spool ls|retry|purge                 list, retry or purge stored reports
//	relay precompress build/assets             write .gz and .br beside the built module
//
// Every [relay] key can be set by a flag or an environment variable
// (docs/config.md lists them); the relay reloads its configuration on
// SIGHUP and drains on SIGTERM. See docs/deployment.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reportline/reportline/web/assets"
)

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelp(args[0])) {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "check-config":
		err = checkConfig(os.Stdout, args)
	case "keygen":
		err = keygen(os.Stdout, args)
	case "init":
		err = initConfig(os.Stdout, args)
	case "spool":
		err = spoolCommand(os.Stdout, args)
	case "snippet":
		err = snippet(os.Stdout, args)
	case "precompress":
		if len(args) != 1 {
			err = errors.New("usage: relay precompress ASSETS-DIR")
		} else {
			err = assets.Precompress(args[0])
		}
	case "help", "-h", "-help", "--help":
		usage(os.Stdout)
	default:
		usage(os.Stderr)
		err = fmt.Errorf("unknown command %q", cmd)
		if strings.HasSuffix(cmd, ".toml") {
			err = hint{err, "to run the relay with this file: relay serve -config " + cmd + "; to check it: relay check-config " + cmd}
		}
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fail(err)
	}
}

// isHelp reports whether arg asks for the list of commands: `relay -h`
// lists them rather than serve's flags (`relay serve -h` lists those).
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// hint is an error with a line of advice for the person at the terminal.
type hint struct {
	error
	hint string
}

func (h hint) Unwrap() error { return h.error }

// Hint returns the advice.
func (h hint) Hint() string { return h.hint }

// hinter is an error with advice: a hint, or a *newfile.Error.
type hinter interface{ Hint() string }

// fail prints err, and its hint if it has one, the way age does, and
// exits 1.
func fail(err error) {
	fmt.Fprintf(os.Stderr, "relay: error: %v\n", err)
	var h hinter
	if errors.As(err, &h) {
		fmt.Fprintf(os.Stderr, "relay: hint: %s\n", h.Hint())
	}
	os.Exit(1)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  relay serve [-config relay.toml] [flags]   run the relay (flags: relay serve -h)
  relay check-config [flags] relay.toml      validate a configuration and its files
  relay init -statement FILE -statement-key hlvk_…
                                             write relay.toml and a fresh signing key to start from
  relay keygen -o relay-signing.key          make an Ed25519 delivery signing key (v1a)
  relay keygen -hmac -o hotline.whsec        make an HMAC secret for one intake (v1)
  relay spool ls [-json]                     list pending and dead reports (never bodies)
  relay spool retry ID | --all-dead          deliver a report again now
  relay spool purge ID --yes                 delete a dead report, or one whose record is corrupt, for good
  relay spool compact                        shrink the spool file to its live data (relay spool -h: every spool command)
  relay precompress build/assets             write .gz and .br beside the built module
  relay snippet -site ID [-frame URL] [-config relay.toml]
                                             print the site's embed snippet with the loader pinned (integrity=)
  relay snippet -assets DIR [-public-url URL] [-site ID] [-frame URL]
                                             the same for a build, without a configuration

Every [relay] key has a flag and an environment variable; see docs/config.md.
Signals: SIGHUP reloads the configuration, SIGTERM drains and stops.
`)
}

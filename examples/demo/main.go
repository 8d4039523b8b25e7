// Command demo runs the whole system on this machine: the hotline's intake,
// the relay and an example partner page, with keys made on first run. It
// prints the page to open and stops everything on Ctrl-C. `make demo` runs
// it; `make demo-split` runs it with -split, where the hotline publishes
// the report frame and serves it on an origin of its own, and the relay
// serves only the loader, challenges and the report API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/reportline/reportline/examples/stack"
)

func main() {
	opts := stack.Options{}
	flag.StringVar(&opts.Bin, "bin", "build/bin", "folder with the relay, hotline and partner-site binaries")
	flag.StringVar(&opts.Assets, "assets", "build/assets", "folder with widget.wasm and wasm_exec.js")
	flag.StringVar(&opts.State, "state", ".demo", "folder for keys, configs, spool, inbox and logs")
	flag.IntVar(&opts.PartnerPort, "partner-port", 8080, "partner page port on 127.0.0.1 (0: any free)")
	flag.IntVar(&opts.RelayPort, "relay-port", 8081, "relay port (0: any free)")
	flag.IntVar(&opts.IntakePort, "intake-port", 8090, "hotline intake port (0: any free)")
	flag.BoolVar(&opts.SplitFrame, "split", false, "the hotline hosts the report frame (hotline publish, hotline serve-frame)")
	flag.IntVar(&opts.FramePort, "frame-port", 8083, "with -split, the hotline frame's port (0: any free)")
	verbose := flag.Bool("v", false, "also print every process's log here")
	flag.Parse()
	if *verbose {
		opts.Log = os.Stderr
	}
	s, err := stack.Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: error: %v\n", err)
		if !errors.Is(err, stack.ErrPortInUse) {
			fmt.Fprintf(os.Stderr, "demo: hint: each process's log is in %s\n", filepath.Join(opts.State, "logs"))
		}
		os.Exit(1)
	}
	frameLine := ""
	if s.FrameURL != "" {
		frameLine = "\n  Report frame:   " + s.FrameURL + " (the hotline's, from " + s.FrameDir + ")"
	}
	// The relay has no page of its own: its readiness is what answers.
	fmt.Printf(`
  Partner page:   %s
  Relay:          %s/readyz (its API; no page of its own)%s
  Hotline inbox:  %s
  Logs:           %s

  Open the partner page, press the report button and send a report.
  Read it with:   %s open %s/<id>.json
  Ctrl-C stops everything.
`, s.PartnerURL, s.RelayURL, frameLine, s.Inbox, filepath.Join(opts.State, "logs"), filepath.Join(opts.Bin, "hotline"), s.Inbox)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP: the terminal closed
	defer stop()
	err = s.Wait(ctx)
	s.Stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: error: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("demo: stopped")
}

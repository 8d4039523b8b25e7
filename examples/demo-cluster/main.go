// Command demo-cluster runs the system as several machines would, on this
// one: three NATS servers (JetStream, every write fsynced), two relays
// sharing them behind a small round-robin load balancer, the hotline's
// intake and an example partner page. It prints what to open and which
// processes to kill to watch a fail-over, and stops everything on Ctrl-C.
// `make demo-cluster` runs it; docs/scaling.md explains the set-up.
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
	opts := stack.Options{NATSNodes: 3, Relays: 2, FollowUp: true}
	flag.StringVar(&opts.Bin, "bin", "build/bin", "folder with the relay, hotline, partner-site and natsnode binaries")
	flag.StringVar(&opts.Assets, "assets", "build/assets", "folder with widget.wasm and wasm_exec.js")
	flag.StringVar(&opts.State, "state", ".demo-cluster", "folder for keys, configs, NATS data, inbox and logs")
	flag.IntVar(&opts.PartnerPort, "partner-port", 8080, "partner page port on 127.0.0.1 (0: any free)")
	flag.IntVar(&opts.RelayPort, "relay-port", 8081, "load balancer port in front of the relays (0: any free)")
	flag.IntVar(&opts.IntakePort, "intake-port", 8090, "hotline intake port (0: any free)")
	verbose := flag.Bool("v", false, "also print every process's log here")
	flag.Parse()
	if *verbose {
		opts.Log = os.Stderr
	}
	opts.RetryMin = "1s"
	s, err := stack.Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-cluster: error: %v\n", err)
		if !errors.Is(err, stack.ErrPortInUse) {
			fmt.Fprintf(os.Stderr, "demo-cluster: hint: each process's log is in %s\n", filepath.Join(opts.State, "logs"))
		}
		os.Exit(1)
	}
	fmt.Printf(`
  Partner page:    %s
  Load balancer:   %s/readyz  (round robin over the relays' API)
  Relays:          %s (pid %d), %s (pid %d)
  NATS servers:    %s (pid %d), %s (pid %d), %s (pid %d)
  Hotline inbox:   %s
  Logs:            %s

  Open the partner page, press the report button and send a report.
  Read it with:    %s/hotline open %s/<id>.json
  If it asked for follow-up, reply (the mailboxes are on the cluster too):
    %s/hotline reply -key %s -hotline demo-hotline -relay %s -inbox %s -kind question -m "Which post?" <id>

  To watch a fail-over, kill things and send again:
    kill -9 %d     # a relay dies: the other one takes every request, and its reports after 30s
    kill -9 %d     # a NATS server dies: the other two go on (three replicas need two)
    kill -STOP %d  # the intake hangs: reports wait in JetStream; kill -CONT %d resumes it
  Start them again with:
    %s
    %s
  Pending reports, from any machine with the configuration:
    %s/relay spool ls -config %s
  Killed processes stay down; Ctrl-C stops everything.
`, s.PartnerURL, s.RelayURL,
		s.RelayAddrs[0], s.PID("relay"), s.RelayAddrs[1], s.PID("relay2"),
		s.NATSURLs[0], s.PID("nats1"), s.NATSURLs[1], s.PID("nats2"), s.NATSURLs[2], s.PID("nats3"),
		s.Inbox, filepath.Join(opts.State, "logs"), opts.Bin, s.Inbox,
		opts.Bin, s.HotlineSigningKey, s.RelayURL, s.Inbox,
		s.PID("relay"), s.PID("nats2"), s.PID("intake"), s.PID("intake"),
		s.Command("relay"), s.Command("nats2"), opts.Bin, s.RelayConfig)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP: the terminal closed
	defer stop()
	// Unlike `make demo`, a process that exits does not stop the others:
	// killing them is the point.
	<-ctx.Done()
	s.Stop()
	fmt.Println("demo-cluster: stopped")
}

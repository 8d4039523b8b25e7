// Package stack runs the whole system on one machine, as real processes on
// loopback: the hotline's intake, the relay and the example partner page,
// with keys it generates. `make demo` and the end-to-end tests use it.
package stack

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/template"
	"time"
)

// Options say where the binaries and assets are and where state is kept.
type Options struct {
	// Bin holds the relay, hotline and partner-site binaries.
	Bin string
	// Assets holds widget.wasm and wasm_exec.js.
	Assets string
	// State holds keys, configs, the spool, the inbox and logs; keys made
	// once are reused.
	State string
	// PartnerPort, RelayPort and IntakePort are the ports to use on
	// 127.0.0.1; 0 picks free ones.
	PartnerPort, RelayPort, IntakePort int
	// RetryMin is the relay's first retry delay ("1s"); empty for default.
	RetryMin string
	// Concurrency is how many deliveries to the hotline run at once; 0
	// for the default. With 1 the intake receives reports one after the
	// other, in the order the relay takes them.
	Concurrency int
	// EmergencyNumber is the hotline's emergency number; empty for 112.
	EmergencyNumber string
	// Log, if set, also receives every process's output.
	Log io.Writer
	// NATSNodes, if not zero (3 for a cluster), starts that many NATS
	// servers (the natsnode binary in Bin) and keeps reports in JetStream
	// on them instead of a spool file.
	NATSNodes int
	// Relays is how many relays run (default 1). With more than one they
	// share JetStream (set NATSNodes), and RelayPort is a small
	// round-robin load balancer in front of them.
	Relays int
	// FollowUp turns on the follow-up channel (docs/follow-up.md): the
	// relay keeps mailboxes (on the cluster, with NATSNodes), and the
	// hotline replies with Stack.HotlineSigningKey.
	FollowUp bool
	// SplitFrame has the hotline host the report frame: `hotline publish`
	// writes it, `hotline serve-frame` serves it on its own loopback
	// origin (FramePort), the relay's hotline gets frame_origin, and the
	// partner page's snippet data-frame (docs/deployment.md).
	SplitFrame bool
	// FramePort is the hotline frame's port with SplitFrame; 0 picks one.
	FramePort int
}

// Stack is a running system.
type Stack struct {
	opts                          Options
	PartnerURL, RelayURL, Intake  string
	Inbox, Spool, RelayConfig     string
	HotlineIdentity, RelayLogPath string
	// HotlineKey is the hotline's hlvk_… verification key, which the
	// partner page gives the form; HotlineSigningKey is its file.
	HotlineKey, HotlineSigningKey string
	// RelayAddrs are the relays' own addresses; NATSURLs the NATS servers'.
	RelayAddrs, NATSURLs []string
	// FrameURL is the address of the frame the hotline hosts, with
	// SplitFrame ("http://127.0.0.1:PORT/"); FrameDir its folder.
	FrameURL, FrameDir string
	lb                 *http.Server
	mu                 sync.Mutex
	procs              map[string]*proc
	logs               map[string]*os.File
	verifyKey          string // the relay's public signing key, for the intake
}

// Start makes keys if needed, writes the relay's configuration and starts
// the intake, the relay and the partner page, waiting until each answers.
func Start(opts Options) (*Stack, error) {
	s := &Stack{opts: opts, procs: map[string]*proc{}, logs: map[string]*os.File{}}
	ports := []*int{&opts.PartnerPort, &opts.RelayPort, &opts.IntakePort}
	if opts.SplitFrame {
		ports = append(ports, &opts.FramePort)
	}
	if err := portsFree(opts); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.State, "logs"), 0o700); err != nil {
		return nil, err
	}
	for _, p := range ports {
		if *p == 0 {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			*p = port
		}
	}
	opts.Relays = max(opts.Relays, 1)
	if opts.Relays == 1 {
		s.RelayAddrs = []string{fmt.Sprintf("127.0.0.1:%d", opts.RelayPort)}
	} else {
		for range opts.Relays {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			s.RelayAddrs = append(s.RelayAddrs, fmt.Sprintf("127.0.0.1:%d", port))
		}
	}
	s.opts = opts
	s.PartnerURL = fmt.Sprintf("http://localhost:%d/", opts.PartnerPort)
	s.RelayURL = fmt.Sprintf("http://127.0.0.1:%d", opts.RelayPort)
	s.Intake = fmt.Sprintf("http://127.0.0.1:%d/v1/deliveries", opts.IntakePort)
	s.Inbox = filepath.Join(opts.State, "inbox")
	s.Spool = filepath.Join(opts.State, "spool.db")
	s.RelayConfig = filepath.Join(opts.State, "relay.toml")
	s.HotlineIdentity = filepath.Join(opts.State, "hotline-identity.txt")
	if opts.SplitFrame {
		s.FrameURL = fmt.Sprintf("http://127.0.0.1:%d/", opts.FramePort)
		s.FrameDir = filepath.Join(opts.State, "frame")
	}
	s.RelayLogPath = filepath.Join(opts.State, "logs", "relay.log")

	recipient, err := s.key("hotline", s.HotlineIdentity)
	if err != nil {
		return nil, err
	}
	s.HotlineSigningKey = filepath.Join(opts.State, "hotline-signing.key")
	if s.HotlineKey, err = s.key("hotline", s.HotlineSigningKey, "-sign"); err != nil {
		return nil, err
	}
	signKey := filepath.Join(opts.State, "relay-signing.key")
	if s.verifyKey, err = s.key("relay", signKey); err != nil {
		return nil, err
	}
	if err := s.startNATS(); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.writeConfig(recipient, signKey); err != nil {
		s.Stop()
		return nil, err
	}
	if opts.Relays > 1 {
		if err := s.startBalancer(); err != nil {
			s.Stop()
			return nil, err
		}
	}
	if err := s.startFrame(); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.StartIntake(); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.StartRelay(); err != nil {
		s.Stop()
		return nil, err
	}
	partnerArgs := []string{"-listen", fmt.Sprintf("127.0.0.1:%d", opts.PartnerPort), "-relay", s.RelayURL, "-site", "demo-site",
		"-hotline-key", s.HotlineKey}
	if s.FrameURL != "" {
		partnerArgs = append(partnerArgs, "-frame", s.FrameURL)
	}
	if err := s.start("partner", filepath.Join(opts.Bin, "partner-site"), partnerArgs...); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.waitReady("partner", s.PartnerURL); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// key makes a key file with `BIN keygen` unless it exists, and returns the
// public half, which keygen writes into the file's comments.
func (s *Stack) key(bin, path string, flags ...string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		out, err := exec.Command(filepath.Join(s.opts.Bin, bin), append([]string{"keygen", "-o", path}, flags...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s keygen: %v: %s", bin, err, out)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "#"))
		line = strings.TrimSpace(strings.TrimPrefix(line, "public key:"))
		line = strings.TrimSpace(strings.TrimPrefix(line, "verification key:"))
		if strings.HasPrefix(line, "age1") || strings.HasPrefix(line, "whpk_") || strings.HasPrefix(line, "hlvk_") {
			return line, nil
		}
	}
	return "", fmt.Errorf("no public key in the comments of %s", path)
}

var configTmpl = template.Must(template.New("relay.toml").Parse(`# Written by the demo; see examples/relay.example.toml and docs/config.md.
[relay]
listen = "127.0.0.1:{{.RelayPort}}"
public_url = "{{.RelayURL}}"
spool = "{{.Spool}}"
assets = "{{.Assets}}"
signing_key_file = "{{.SignKey}}"
log_format = "json"
{{if .RetryMin}}retry_min = "{{.RetryMin}}"
{{end}}{{if .FollowUp}}mailbox = "{{.Mailbox}}"
{{end}}{{if .NATS}}store = "jetstream"

[relay.jetstream]
urls = [{{range $i, $u := .NATS}}{{if $i}}, {{end}}"{{$u}}"{{end}}]
ack_wait = "30s"
{{end}}
[[hotline]]
id = "demo-hotline"
name = "Demo Hotline"
intake_url = "{{.Intake}}"
statement_key = "{{.HotlineKey}}"
statement = '''
{{.Statement}}'''
emergency_number = "{{.Emergency}}"
report_page = "https://hotline.example.org/report"
{{if .Concurrency}}concurrency = {{.Concurrency}}
{{end}}{{with .FrameOrigin}}frame_origin = "{{.}}"
{{end}}
[[site]]
id = "demo-site"
hotline = "demo-hotline"
origins = ["http://localhost:{{.PartnerPort}}", "http://127.0.0.1:{{.PartnerPort}}"]
`))

// sign has the hotline sign a key statement for its recipient, valid
// from an hour ago for thirty days.
func (s *Stack) sign(recipient string) (string, error) {
	out, err := exec.Command(filepath.Join(s.opts.Bin, "hotline"), "sign", "-key", s.HotlineSigningKey,
		"-hotline", "demo-hotline", "-serial", "1", "-valid-from", time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
		"-valid-for", "720h", recipient).Output()
	if err != nil {
		return "", fmt.Errorf("hotline sign: %w", err)
	}
	return string(out), nil
}

// mailbox is relay.mailbox: a file beside the spool, or the cluster's
// buckets where the reports are on the cluster.
func (s *Stack) mailbox() string {
	if len(s.NATSURLs) > 0 {
		return "jetstream"
	}
	return filepath.Join(s.opts.State, "mailbox.db")
}

func (s *Stack) writeConfig(recipient, signKey string) error {
	// The relay takes relative paths from the configuration's folder:
	// every path it is given here is absolute.
	var assets, spool, mailbox string
	for _, p := range []struct {
		to   *string
		from string
	}{
		{&assets, s.opts.Assets}, {&spool, s.Spool}, {&signKey, signKey}, {&mailbox, s.mailbox()},
	} {
		abs, err := filepath.Abs(p.from)
		if err != nil {
			return err
		}
		*p.to = abs
	}
	if len(s.NATSURLs) > 0 {
		mailbox = s.mailbox()
	}
	st, err := s.sign(recipient)
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.statementPath(), []byte(st), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(s.RelayConfig, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = configTmpl.Execute(f, map[string]any{
		"RelayPort": s.opts.RelayPort, "RelayURL": s.RelayURL, "Spool": spool, "Assets": assets,
		"SignKey": signKey, "RetryMin": s.opts.RetryMin, "Intake": s.Intake, "Statement": st, "HotlineKey": s.HotlineKey,
		"PartnerPort": s.opts.PartnerPort, "Emergency": cmp.Or(s.opts.EmergencyNumber, "112"), "NATS": s.NATSURLs,
		"FollowUp": s.opts.FollowUp, "Mailbox": mailbox, "Concurrency": s.opts.Concurrency,
		"FrameOrigin": strings.TrimSuffix(s.FrameURL, "/"),
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// statementPath is the file the hotline's signed key statement is kept in.
func (s *Stack) statementPath() string { return filepath.Join(s.opts.State, "statement.txt") }

// startFrame, with SplitFrame, publishes the report frame afresh with
// `hotline publish` and serves it with `hotline serve-frame`, for the
// partner page's origins only.
func (s *Stack) startFrame() error {
	if !s.opts.SplitFrame {
		return nil
	}
	// A folder from an earlier run holds an older module: publish never
	// overwrites, so it goes first.
	if err := os.RemoveAll(s.FrameDir); err != nil {
		return err
	}
	assets, err := filepath.Abs(s.opts.Assets)
	if err != nil {
		return err
	}
	args := []string{"publish", "-relay", s.RelayURL, "-statement", s.statementPath(), "-statement-key", s.HotlineKey,
		"-assets", assets, "-emergency-number", cmp.Or(s.opts.EmergencyNumber, "112"),
		"-report-page", "https://hotline.example.org/report"}
	if s.opts.FollowUp {
		args = append(args, "-follow-up")
	}
	if out, err := exec.Command(filepath.Join(s.opts.Bin, "hotline"), append(args, s.FrameDir)...).CombinedOutput(); err != nil {
		return fmt.Errorf("hotline publish: %v: %s", err, out)
	}
	if err := s.start("frame", filepath.Join(s.opts.Bin, "hotline"), "serve-frame",
		"-listen", fmt.Sprintf("127.0.0.1:%d", s.opts.FramePort),
		"-frame-ancestors", fmt.Sprintf("http://localhost:%d http://127.0.0.1:%d", s.opts.PartnerPort, s.opts.PartnerPort),
		s.FrameDir); err != nil {
		return err
	}
	return s.waitReady("frame", s.FrameURL)
}

// StartRelay starts the relays (again) and waits until they are ready.
func (s *Stack) StartRelay() error {
	for i, addr := range s.RelayAddrs {
		if err := s.start(relayName(i), filepath.Join(s.opts.Bin, "relay"), "serve", "-config", s.RelayConfig, "-listen", addr); err != nil {
			return err
		}
		if err := s.waitReady(relayName(i), "http://"+addr+"/readyz"); err != nil {
			return err
		}
	}
	return nil
}

// relayName is the process name of relay i: "relay", "relay2", ….
func relayName(i int) string {
	if i == 0 {
		return "relay"
	}
	return fmt.Sprintf("relay%d", i+1)
}

// Command returns the command line a started process was started with,
// to start it again by hand after killing it.
func (s *Stack) Command(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil {
		return strings.Join(p.cmd.Args, " ")
	}
	return ""
}

// PID returns the process id of a started process ("relay", "relay2",
// "nats1", "intake", …), or 0.
func (s *Stack) PID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// StopRelay stops the relay: with SIGKILL if kill, as a crash would, or
// with SIGTERM for a graceful shutdown.
func (s *Stack) StopRelay(kill bool) error {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	return s.stop("relay", sig)
}

// StopProcess stops a started process by name ("relay2", "nats1", …):
// with SIGKILL if kill, or SIGTERM.
func (s *Stack) StopProcess(name string, kill bool) error {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	return s.stop(name, sig)
}

// StartIntake starts the hotline's intake (again) and waits until it
// answers.
func (s *Stack) StartIntake() error {
	if err := s.start("intake", filepath.Join(s.opts.Bin, "hotline"), "intake",
		"-listen", fmt.Sprintf("127.0.0.1:%d", s.opts.IntakePort), "-identity", s.HotlineIdentity,
		"-inbox", s.Inbox, "-verify-key", s.verifyKey, "-hotline", "demo-hotline"); err != nil {
		return err
	}
	return s.waitReady("intake", fmt.Sprintf("http://127.0.0.1:%d/healthz", s.opts.IntakePort))
}

// StopIntake stops the hotline's intake, as an outage would.
func (s *Stack) StopIntake() error { return s.stop("intake", syscall.SIGTERM) }

// Stop stops everything.
func (s *Stack) Stop() {
	if s.lb != nil {
		s.lb.Close()
	}
	names := []string{"partner", "frame"}
	for i := range s.RelayAddrs {
		names = append(names, relayName(i))
	}
	names = append(names, "intake")
	for i := range s.opts.NATSNodes {
		names = append(names, fmt.Sprintf("nats%d", i+1))
	}
	for _, name := range names {
		s.stop(name, syscall.SIGTERM)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.logs {
		f.Close()
	}
}

func (s *Stack) start(name, bin string, args ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	logf, ok := s.logs[name]
	if !ok {
		var err error
		logf, err = os.OpenFile(filepath.Join(s.opts.State, "logs", name+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		s.logs[name] = logf
	}
	var out io.Writer = logf
	if s.opts.Log != nil {
		out = io.MultiWriter(logf, prefixWriter{name, s.opts.Log})
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	s.procs[name] = p
	return nil
}

// proc is a started process; done closes when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (s *Stack) stop(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(35 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// Wait blocks until ctx is done or a process exits by itself, which it
// reports as an error.
func (s *Stack) Wait(ctx context.Context) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.mu.Lock()
			for name, p := range s.procs {
				select {
				case <-p.done:
					s.mu.Unlock()
					return fmt.Errorf("%s exited (%v): see %s", name, p.err, filepath.Join(s.opts.State, "logs", name+".log"))
				default:
				}
			}
			s.mu.Unlock()
		}
	}
}

// startNATS starts opts.NATSNodes NATS servers on free ports, routed to
// each other, and waits until each answers.
func (s *Stack) startNATS() error {
	n := s.opts.NATSNodes
	if n == 0 {
		return nil
	}
	var clientPorts, routePorts []int
	for range 2 * n {
		p, err := freePort()
		if err != nil {
			return err
		}
		if len(clientPorts) < n {
			clientPorts = append(clientPorts, p)
		} else {
			routePorts = append(routePorts, p)
		}
	}
	for i := range n {
		var routes []string
		for j, p := range routePorts {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
			}
		}
		name := fmt.Sprintf("nats%d", i+1)
		if err := s.start(name, filepath.Join(s.opts.Bin, "natsnode"), "-name", name,
			"-port", fmt.Sprint(clientPorts[i]), "-cluster-port", fmt.Sprint(routePorts[i]),
			"-routes", strings.Join(routes, ","), "-store", filepath.Join(s.opts.State, name)); err != nil {
			return err
		}
		s.NATSURLs = append(s.NATSURLs, fmt.Sprintf("nats://127.0.0.1:%d", clientPorts[i]))
	}
	for _, u := range s.NATSURLs {
		if err := waitTCP(strings.TrimPrefix(u, "nats://")); err != nil {
			return err
		}
	}
	return nil
}

// startBalancer serves RelayPort with a round-robin reverse proxy over the
// relays that skips a relay it cannot reach, as a load balancer's health
// checks would.
func (s *Stack) startBalancer() error {
	var next atomic.Uint64
	var proxies []*httputil.ReverseProxy
	for _, addr := range s.RelayAddrs {
		u, _ := url.Parse("http://" + addr)
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(u))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := int(next.Add(1))
		for k := range s.RelayAddrs {
			i := (start + k) % len(s.RelayAddrs)
			c, err := net.DialTimeout("tcp", s.RelayAddrs[i], time.Second)
			if err != nil {
				continue
			}
			c.Close()
			proxies[i].ServeHTTP(w, r)
			return
		}
		http.Error(w, "no relay is up", http.StatusBadGateway)
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.opts.RelayPort))
	if err != nil {
		return err
	}
	s.lb = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go s.lb.Serve(ln)
	return nil
}

// waitTCP waits until addr accepts connections, for at most 30 seconds.
func waitTCP(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not accept connections within 30s", addr)
}

type prefixWriter struct {
	name string
	w    io.Writer
}

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprintf(p.w, "%-8s %s", p.name, line)
		}
	}
	return len(b), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ErrPortInUse is returned by Start when a port it was given is taken.
var ErrPortInUse = errors.New("port in use")

// portsFree checks that each port opts names (not 0) is free on
// 127.0.0.1, so that the stack does not take another program there, a
// demo still running, for its own.
func portsFree(opts Options) error {
	framePort := 0 // the frame listens only with SplitFrame
	if opts.SplitFrame {
		framePort = opts.FramePort
	}
	for _, p := range []struct {
		port       int
		what, flag string
	}{
		{opts.PartnerPort, "the partner page", "-partner-port"},
		{opts.RelayPort, "the relay", "-relay-port"},
		{opts.IntakePort, "the hotline's intake", "-intake-port"},
		{framePort, "the hotline's frame", "-frame-port"},
	} {
		if p.port == 0 {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", p.port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%w: %s, for %s, is taken (%v): stop what listens there (another demo still running?), "+
				"or choose another port with %s (0 picks a free one)", ErrPortInUse, addr, p.what, errors.Unwrap(err), p.flag)
		}
		ln.Close()
	}
	return nil
}

// waitReady waits until u answers 200, as waitHTTPOr, and fails as soon as
// the process name exits, saying why from the end of its log: a process
// that could not start must not be taken to be another one answering.
func (s *Stack) waitReady(name, u string) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	var done <-chan struct{}
	if p != nil {
		done = p.done
	}
	err := waitHTTPOr(u, done)
	if errors.Is(err, errExited) {
		log := filepath.Join(s.opts.State, "logs", name+".log")
		b, _ := os.ReadFile(log)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return fmt.Errorf("%s exited (%v) before it was ready: %s (see %s)", name, p.err, lines[len(lines)-1], log)
	}
	return err
}

var errExited = errors.New("exited")

// waitHTTPOr polls u until it answers 200, for at most two minutes: a relay
// that opens (and perhaps compacts) a large spool on a loaded machine, or
// that waits up to a minute for a NATS cluster still forming, may take
// that long.
//
// It gives up with errExited once done closes.
func waitHTTPOr(u string, done <-chan struct{}) error {
	const limit = 2 * time.Minute
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return errExited
		case <-time.After(50 * time.Millisecond): // polling a condition
		}
	}
	return fmt.Errorf("%s did not answer within %v", u, limit)
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/internal/testcert"
	"github.com/reportline/reportline/internal/testlog"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/spool"
)

// setup is a relay's folder: assets, a signing key and a configuration
// written from a template with %THEME% and %EXTRA% to fill.
type setup struct {
	dir, cfgPath, recipient, keyFile string
}

func newSetup(t testing.TB) *setup {
	t.Helper()
	dir := t.TempDir()
	s := &setup{dir: dir, cfgPath: filepath.Join(dir, "relay.toml"), keyFile: filepath.Join(dir, "relay-signing.key")}
	assets := filepath.Join(dir, "assets")
	os.MkdirAll(assets, 0o755)
	os.WriteFile(filepath.Join(assets, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(assets, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	if err := keygen(io.Discard, []string{"-o", s.keyFile}); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	s.recipient = id.Recipient().String()
	return s
}

// write writes the configuration, with relayExtra in the [relay] table
// and theme in the site's, atomically (writeConfig).
func (s *setup) write(t testing.TB, relayExtra, theme string) {
	t.Helper()
	s.writeConfig(t, s.relaySection(relayExtra)+fmt.Sprintf(`
[[hotline]]
id = "h1"
name = "Test Hotline"
intake_url = "http://127.0.0.1:9/v1/deliveries"
recipients = [%q]
languages = ["de", "en"]

[[site]]
id = "s1"
hotline = "h1"
origins = ["https://partner.example"]
[site.theme]
%s
`, s.recipient, theme))
}

// relaySection is the [relay] table of every configuration the tests
// write: loopback, s's files, JSON logs, and extra.
func (s *setup) relaySection(extra string) string {
	return fmt.Sprintf(`
[relay]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1:8081"
spool = %q
assets = %q
signing_key_file = %q
log_format = "json"
%s
`, filepath.Join(s.dir, "spool.db"), filepath.Join(s.dir, "assets"), s.keyFile, extra)
}

// writeConfig writes body as the configuration atomically, as an
// operator's editor or deployment tool would, so a reload never reads
// half a file.
func (s *setup) writeConfig(t testing.TB, body string) {
	t.Helper()
	tmp := s.cfgPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.cfgPath); err != nil {
		t.Fatal(err)
	}
}

// running is a relay started in this process by run.
type running struct {
	addrs  sync.Map // listener name → address
	reload chan os.Signal
	cancel context.CancelFunc
	done   chan error
	logs   *testlog.Buffer
}

func start(t *testing.T, s *setup, overrides ...config.Override) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{reload: make(chan os.Signal, 1), cancel: cancel, done: make(chan error, 1), logs: &testlog.Buffer{}}
	listening := make(chan struct{}, 8)
	go func() {
		r.done <- run(ctx, runOptions{path: s.cfgPath, overrides: overrides, reload: r.reload, logOut: r.logs,
			onListen: func(name, addr string) { r.addrs.Store(name, addr) }, ready: func() { listening <- struct{}{} }})
	}()
	select {
	case <-listening:
	case err := <-r.done:
		t.Fatalf("relay did not start: %v\n%s", err, r.logs)
	case <-time.After(time.Minute):
		t.Fatal("relay did not start within a minute")
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) addr(name string) string {
	a, _ := r.addrs.Load(name)
	s, _ := a.(string)
	return s
}

// stop stops the relay and waits for run to return; a test may stop it
// before the cleanup does.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if !ok {
			return // stopped already
		}
		if err != nil {
			t.Errorf("run returned %v", err)
		}
		close(r.done)
	case <-time.After(time.Minute):
		t.Error("run did not return within a minute after cancel")
	}
}

// waitFor polls cond until it holds, with room for a relay process to
// start or reload on a busy machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func get(c *http.Client, url string, hdr ...string) (int, string, http.Header, error) {
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, nil
}

func themeColor(body string) string {
	var v struct{ Theme struct{ Color string } }
	json.Unmarshal([]byte(body), &v)
	return v.Theme.Color
}

// TestReloadUnderLoad reloads the configuration again and again while
// clients keep asking; no request may fail, each new theme must be served
// soon after its reload, and a bad configuration must leave the good one
// in force with a log line that names the bad value.
func TestReloadUnderLoad(t *testing.T) {
	const metricsApart = `metrics_listen = "127.0.0.1:0"`
	s := newSetup(t)
	s.write(t, metricsApart, `color = "#000000"`)
	r := start(t, s)
	base := "http://" + r.addr("http")
	client := &http.Client{Timeout: time.Minute}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, failed atomic.Int64
	var lastFailure atomic.Value
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, u := range []string{"/v1/sites/s1/embed", "/w/s1?o=https://partner.example", "/readyz"} {
					code, body, _, err := get(client, base+u, "Origin", "https://partner.example")
					served.Add(1)
					if err != nil || code != 200 {
						failed.Add(1)
						lastFailure.Store(fmt.Sprintf("%s: %d %v %.200s", u, code, err, body))
					}
				}
			}
		}()
	}
	colors := []string{"#1a4d8f", "#005a32", "#6a1b9a", "#8b0000", "#222222"}
	for i, c := range colors {
		s.write(t, metricsApart, `color = "`+c+`"`)
		r.reload <- syscall.SIGHUP
		waitFor(t, "theme "+c, func() bool {
			_, body, _, _ := get(client, base+"/v1/sites/s1/embed", "Origin", "https://partner.example")
			return themeColor(body) == c
		})
		if i == 2 {
			// A bad value: the relay keeps the configuration in force.
			s.write(t, metricsApart, `color = "red"`)
			r.reload <- syscall.SIGHUP
			waitFor(t, "the failed reload's log line", func() bool { return strings.Contains(r.logs.String(), "reload failed") })
			if _, body, _, _ := get(client, base+"/v1/sites/s1/embed", "Origin", "https://partner.example"); themeColor(body) != c {
				t.Fatalf("after a bad reload the theme is %q, want %q kept", themeColor(body), c)
			}
		}
	}
	waitFor(t, "some load", func() bool { return served.Load() > 200 })
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed during reloads; last: %v", n, served.Load(), lastFailure.Load())
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `site[0].theme.color: \"red\" is not a colour`) {
		t.Errorf("the failed reload's log does not name the bad value:\n%s", logs)
	}
	_, metrics, _, _ := get(client, "http://"+r.addr("metrics")+"/metrics")
	for _, want := range []string{`reportline_config_reloads_total{result="ok"} 5`, `reportline_config_reloads_total{result="error"} 1`,
		`reportline_alarms_total{kind="config_reload_failed"} 1`, "reportline_config_loaded 1", "reportline_pow_difficulty "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestTLSRedirectAndHSTS(t *testing.T) {
	s := newSetup(t)
	ca := testcert.NewCA(t, "relay test CA")
	_, certFile, keyFile := ca.WriteFiles(t, s.dir, "relay", true)
	port := freePort(t)
	public := fmt.Sprintf("https://127.0.0.1:%d", port)
	s.write(t, fmt.Sprintf("[relay.tls]\ncert_file = %q\nkey_file = %q\nhttp_listen = \"127.0.0.1:0\"\nhsts_max_age = \"24h\"", certFile, keyFile), "")
	r := start(t, s,
		config.Override{Key: "relay.listen", Value: fmt.Sprintf("127.0.0.1:%d", port), Source: "test"},
		config.Override{Key: "relay.public_url", Value: public, Source: "test"})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	code, _, hdr, err := get(client, public+"/healthz")
	if err != nil || code != 200 || hdr.Get("Strict-Transport-Security") != "max-age=86400" {
		t.Fatalf("https: %d %v %v", code, err, hdr)
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MaxVersion: tls.VersionTLS11}}}
	if _, _, _, err := get(old, public+"/healthz"); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, _, hdr, err = get(noFollow, "http://"+r.addr("redirect")+"/w/s1?o=x", "Host", "evil.example")
	if err != nil || code != http.StatusPermanentRedirect || hdr.Get("Location") != public+"/w/s1?o=x" {
		t.Errorf("redirect: %d %v Location %q", code, err, hdr.Get("Location"))
	}

	// A renewed certificate is read on reload.
	ca2 := testcert.NewCA(t, "renewed CA")
	ca2.WriteFiles(t, s.dir, "relay", true)
	r.reload <- syscall.SIGHUP
	client2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca2.Pool()}}}
	waitFor(t, "the renewed certificate", func() bool {
		code, _, _, err := get(client2, public+"/healthz")
		return err == nil && code == 200
	})
}

func TestSpoolCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spool.db")
	sp, err := spool.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const pending, dead = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", "4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	for _, id := range []string{pending, dead} {
		if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Body: []byte("SECRET-BODY-" + id)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.Bury(dead, "intake answered 410 Gone")
	sp.Close()
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := spoolCommand(&out, append(args, "-spool", path))
		return out.String(), err
	}
	out, err := do("ls")
	if err != nil || !strings.Contains(out, pending) || !strings.Contains(out, dead) || !strings.Contains(out, "1 pending, 1 dead") ||
		!strings.Contains(out, "intake answered 410 Gone") {
		t.Fatalf("ls: %v\n%s", err, out)
	}
	out, _ = do("ls", "-json")
	if strings.Contains(out, "SECRET-BODY") || !strings.Contains(out, `"state": "dead"`) {
		t.Errorf("ls -json:\n%s", out)
	}
	if _, err := do("purge", pending, "--yes"); !errors.Is(err, errNotDead) {
		t.Errorf("purge of a pending report: %v", err)
	}
	if _, err := do("purge", dead); err == nil || !strings.Contains(err.Error(), "for good") {
		t.Errorf("purge without --yes: %v", err)
	}
	if out, err := do("retry", dead); err != nil || !strings.Contains(out, "pending, due now") {
		t.Errorf("retry dead: %v %s", err, out)
	}
	if out, _ := do("ls"); !strings.Contains(out, "2 pending, 0 dead") {
		t.Errorf("after retry:\n%s", out)
	}
	if _, err := do("retry", "5f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"); !errors.Is(err, spool.ErrNotFound) {
		t.Errorf("retry of an unknown report: %v", err)
	}
	sp, _ = spool.Open(path)
	sp.Bury(dead, "undeliverable")
	sp.Close()
	if out, err := do("purge", dead, "--yes"); err != nil || !strings.Contains(out, "purged") {
		t.Errorf("purge --yes: %v %s", err, out)
	}
	if out, _ := do("ls"); !strings.Contains(out, "1 pending, 0 dead") {
		t.Errorf("after purge:\n%s", out)
	}
	if out, err := do("compact"); err != nil || !strings.Contains(out, "spool compacted:") {
		t.Errorf("compact: %v %s", err, out)
	}
	if out, _ := do("ls"); !strings.Contains(out, "1 pending, 0 dead") || !strings.Contains(out, pending) {
		t.Errorf("after compact:\n%s", out)
	}
	if _, err := do("frobnicate"); err == nil {
		t.Error("an unknown subcommand was accepted")
	}
}

// TestSpoolCommandsWhileRunning uses the admin socket, since the running
// relay holds the spool file's lock.
func TestSpoolCommandsWhileRunning(t *testing.T) {
	s := newSetup(t)
	socket := filepath.Join(s.dir, "admin.sock")
	s.write(t, fmt.Sprintf("admin_socket = %q", socket), "")
	sp, err := spool.Open(filepath.Join(s.dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	const dead = "4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	sp.Put(spool.Entry{ID: dead, Hotline: "h1", Site: "s1", Body: []byte("x")})
	sp.Bury(dead, "intake answered 410 Gone")
	sp.Close()
	start(t, s)
	if fi, err := os.Stat(socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}
	var out bytes.Buffer
	if err := spoolCommand(&out, []string{"ls", "-config", s.cfgPath}); err != nil || !strings.Contains(out.String(), dead) {
		t.Fatalf("ls through the socket: %v\n%s", err, out.String())
	}
	// Without the socket, the locked file says what to do.
	err = spoolCommand(io.Discard, []string{"ls", "-spool", filepath.Join(s.dir, "spool.db")})
	var h hint
	if !errors.Is(err, spool.ErrLocked) || !errors.As(err, &h) || !strings.Contains(h.hint, "admin_socket") {
		t.Errorf("ls on a locked spool: %v", err)
	}
	out.Reset()
	if err := spoolCommand(&out, []string{"purge", dead, "-config", s.cfgPath, "--yes"}); err != nil {
		t.Fatalf("purge through the socket: %v", err)
	}
	out.Reset()
	spoolCommand(&out, []string{"ls", "-config", s.cfgPath})
	if !strings.Contains(out.String(), "0 pending, 0 dead") {
		t.Errorf("after purge:\n%s", out.String())
	}
	out.Reset()
	if err := spoolCommand(&out, []string{"compact", "-config", s.cfgPath}); err != nil || !strings.Contains(out.String(), "spool compacted:") {
		t.Errorf("compact through the socket: %v\n%s", err, out.String())
	}
}

func TestCheckConfig(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	var out bytes.Buffer
	if err := checkConfig(&out, []string{s.cfgPath, "-log-level", "debug"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ok (1 hotline, 1 site)") || !strings.Contains(out.String(), "relay.log_level set by -log-level") ||
		!strings.Contains(out.String(), "signature v1a") {
		t.Errorf("output:\n%s", out.String())
	}
	t.Setenv("RELAY_LOG_FORMAT", "xml")
	if err := checkConfig(io.Discard, []string{s.cfgPath}); err == nil || !strings.Contains(err.Error(), "relay.log_format") || !strings.Contains(err.Error(), "RELAY_LOG_FORMAT") {
		t.Errorf("bad environment value: %v", err)
	}
	t.Setenv("RELAY_LOG_FORMAT", "")
	os.Rename(s.keyFile, s.keyFile+".moved")
	if err := checkConfig(io.Discard, []string{s.cfgPath}); err == nil || !strings.Contains(err.Error(), "relay.signing_key_file") {
		t.Errorf("missing key file: %v", err)
	}
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	p := filepath.Join(dir, "relay.key")
	if err := keygen(&out, []string{"-o", p}); err != nil {
		t.Fatal(err)
	}
	key, err := delivery.ReadKeyFile(p)
	if err != nil || !strings.HasPrefix(key, "whsk_") || !strings.HasPrefix(out.String(), "whpk_") {
		t.Fatalf("key %v, printed %q", err, out.String())
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "# "+strings.TrimSpace(out.String())) {
		t.Error("the key file's comments do not name the public key")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	if err := keygen(io.Discard, []string{"-o", p}); err == nil {
		t.Error("keygen overwrote a key")
	}
	h := filepath.Join(dir, "h1.whsec")
	if err := keygen(io.Discard, []string{"-hmac", "-o", h}); err != nil {
		t.Fatal(err)
	}
	if key, err := delivery.ReadKeyFile(h); err != nil || !strings.HasPrefix(key, "whsec_") {
		t.Errorf("hmac key: %q %v", key, err)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, args := range [][]string{{"ID", "--yes"}, {"--yes", "ID"}, {"-yes", "ID", "-spool", "x"}} {
		fs := newTestFlags()
		pos, err := parseInterspersed(fs.fs, args)
		if err != nil || len(pos) != 1 || pos[0] != "ID" || !*fs.yes {
			t.Errorf("%v: %v %v yes=%v", args, pos, err, *fs.yes)
		}
	}
}

// TestSignals runs the built binary and sends it real signals: SIGHUP
// reloads, SIGTERM drains and exits 0.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	s.write(t, "", `color = "#000000"`)
	port := freePort(t)
	logs := &testlog.Buffer{}
	cmd := exec.Command(bin, "serve", "-config", s.cfgPath, "-listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(t, "the relay to be ready", func() bool { code, _, _, _ := get(http.DefaultClient, base+"/readyz"); return code == 200 })
	s.write(t, "", `color = "#1a4d8f"`)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool {
		_, body, _, _ := get(http.DefaultClient, base+"/v1/sites/s1/embed", "Origin", "https://partner.example")
		return themeColor(body) == "#1a4d8f"
	})
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs)
		}
	case <-time.After(time.Minute):
		t.Fatal("the relay did not stop within a minute of SIGTERM")
	}
	for _, want := range []string{"configuration reloaded", "shutting down", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), "whsk_") {
		t.Error("logs contain a secret key")
	}
}

func TestMain(m *testing.M) { testbin.Main(m) }

type testFlags struct {
	fs  *flag.FlagSet
	yes *bool
}

func newTestFlags() testFlags {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("spool", "", "")
	return testFlags{fs: fs, yes: fs.Bool("yes", false, "")}
}

// TestACMESetup checks what can be checked of ACME without a CA: the host
// policy refuses names outside relay.tls.domains before any network
// request, the ALPN challenge protocol is offered, TLS 1.2 is the floor,
// and the plain-HTTP handler redirects to public_url.
func TestACMESetup(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
[relay]
public_url = "https://report.example.org"
spool = "x"
assets = "x"
signing_key_file = "k"
[relay.tls]
acme = true
domains = ["report.example.org"]
cache_dir = %q
http_listen = ":80"
[[hotline]]
id = "h1"
intake_url = "https://intake.example.org/"
recipients = ["age1d8sw2v0aq27n87pf6uexdkhnm6x3z22drvfvurew7230r6s3aessq0qvsp"]
`, filepath.Join(dir, "acme"))))
	if err != nil {
		t.Fatal(err)
	}
	tc, redirect, certs, err := setupTLS(cfg)
	if err != nil || certs != nil {
		t.Fatalf("setupTLS: %v, %v", certs, err)
	}
	if tc.MinVersion != tls.VersionTLS12 || !strings.Contains(strings.Join(tc.NextProtos, ","), "acme-tls/1") {
		t.Errorf("tls config: min %x, protos %v", tc.MinVersion, tc.NextProtos)
	}
	if _, err := tc.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example"}); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("a certificate for a name outside domains: %v", err)
	}
	rec := httptest.NewRecorder()
	redirect.ServeHTTP(rec, httptest.NewRequest("GET", "http://evil.example/w/s1?o=x", nil))
	if rec.Code != http.StatusPermanentRedirect || rec.Header().Get("Location") != "https://report.example.org/w/s1?o=x" {
		t.Errorf("redirect: %d %v", rec.Code, rec.Header())
	}
}

// TestCheckConfigFindsTheFileAsServeDoes: check-config finds the file
// where relay serve would (-config, RELAY_CONFIG, relay.toml), so that an
// operator can check exactly what serve is about to read.
func TestCheckConfigFindsTheFileAsServeDoes(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	for _, tt := range []struct {
		args []string
		env  string
	}{
		{[]string{"-config", s.cfgPath}, ""},
		{nil, s.cfgPath},
	} {
		t.Setenv("RELAY_CONFIG", tt.env)
		var out bytes.Buffer
		if err := checkConfig(&out, tt.args); err != nil || !strings.Contains(out.String(), "ok (1 hotline,") {
			t.Errorf("check-config %v with RELAY_CONFIG=%q: %v\n%s", tt.args, tt.env, err, out.String())
		}
	}
	t.Setenv("RELAY_CONFIG", "")
	t.Chdir(s.dir)
	var out bytes.Buffer
	if err := checkConfig(&out, nil); err != nil || !strings.Contains(out.String(), "relay.toml: ok") {
		t.Errorf("check-config in the configuration's folder: %v\n%s", err, out.String())
	}
	if err := checkConfig(io.Discard, []string{"-config", s.cfgPath, "other.toml"}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("check-config with two files: %v", err)
	}
}

// TestCheckConfigNeedsTheAssets: a configuration whose assets folder
// lacks the built module passes check-config no more than it starts the
// relay, and the message says how to make it.
func TestCheckConfigNeedsTheAssets(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	os.Remove(filepath.Join(s.dir, "assets", "widget.wasm"))
	err := checkConfig(io.Discard, []string{s.cfgPath})
	if err == nil || !strings.Contains(err.Error(), "relay.assets") || !strings.Contains(err.Error(), "make build") {
		t.Errorf("check-config without the built module: %v", err)
	}
}

// TestNoConfigurationSaysHowToMakeOne: serve and check-config without a
// configuration say how to write one.
func TestNoConfigurationSaysHowToMakeOne(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("RELAY_CONFIG", "")
	for name, err := range map[string]error{
		"check-config": checkConfig(io.Discard, nil),
		"serve":        run(context.Background(), runOptions{path: "relay.toml", logOut: io.Discard}),
	} {
		var h hint
		if !errors.As(err, &h) || !strings.Contains(h.hint, "relay init") {
			t.Errorf("%s without relay.toml: %v (hint %q), want a hint naming relay init", name, err, h.hint)
		}
	}
}

package main

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testcert"
	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// runIntakeFor runs `hotline intake` with o on its own listener until the
// test ends, and returns the address it listens on.
func runIntakeFor(t testing.TB, o intakeOptions) (addr string, srv *http.Server) {
	t.Helper()
	addr, srv, _ = serveIntakeFor(t, o)
	return addr, srv
}

// serveIntakeFor is runIntakeFor, and returns as well a stop that stops
// the intake as a signal does and returns once it has stopped.
func serveIntakeFor(t testing.TB, o intakeOptions) (addr string, srv *http.Server, stop func()) {
	t.Helper()
	srv, ln, log, err := o.setup()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveIntake(ctx, srv, ln, log) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("intake: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), srv, stop
}

// TestIntakeMutualTLS runs the intake with -tls-cert, -tls-key and
// -client-ca, and delivers to it with the relay's forwarder: with the
// relay's client certificate the report lands in the inbox; without it,
// or with one from another CA, the connection is refused and the report
// stays in the relay's spool.
func TestIntakeMutualTLS(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"intake", "relay", "stranger"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	hotlineCA := testcert.NewCA(t, "hotline CA")
	_, srvCert, srvKey := hotlineCA.WriteFiles(t, filepath.Join(dir, "intake"), "intake", true)
	clientCA := testcert.NewCA(t, "relay clients CA")
	clientCAFile, clientCert, clientKey := clientCA.WriteFiles(t, filepath.Join(dir, "relay"), "relay", false)
	hotlineCAFile := filepath.Join(dir, "hotline-ca.pem")
	os.WriteFile(hotlineCAFile, hotlineCA.PEM, 0o600)
	strangerCA := testcert.NewCA(t, "someone else")
	_, strangerCert, strangerKey := strangerCA.WriteFiles(t, filepath.Join(dir, "stranger"), "relay", false)

	id, _ := age.GenerateHybridIdentity()
	idFile := filepath.Join(dir, "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	secret, _ := delivery.GenerateHMACSecret()
	secretFile := filepath.Join(dir, "h1.whsec")
	os.WriteFile(secretFile, []byte("# shared\n"+secret+"\n"), 0o600)

	inbox := filepath.Join(dir, "inbox")
	o := intakeOptions{listen: "127.0.0.1:0", identity: idFile, inbox: inbox, verifyKeyFile: secretFile, hotline: "h1",
		path: "/v1/deliveries", tlsCert: srvCert, tlsKey: srvKey, clientCA: clientCAFile, tolerance: delivery.DefaultTolerance, logOut: io.Discard}
	addr, _ := runIntakeFor(t, o)
	url := "https://" + addr + "/v1/deliveries"

	sp, err := spool.Open(filepath.Join(dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	deliver := func(cert, key string) string {
		t.Helper()
		tc, err := forward.ClientTLS(cert, key, hotlineCAFile)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := delivery.NewHMACSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		eps := map[string]forward.Endpoint{"h1": {URL: url, Signer: signer, Client: forward.NewClient(tc, 10*time.Second, 1)}}
		rid := uuid.NewString()
		env, err := report.Seal(&report.Report{Version: report.Version, ID: rid, Hotline: "h1", Site: "s1",
			Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "image", Category: "csam"}, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sp.Put(spool.Entry{ID: rid, Hotline: "h1", Site: "s1", Body: env}); err != nil {
			t.Fatal(err)
		}
		f := &forward.Forwarder{Spool: sp, Log: slog.New(slog.DiscardHandler), MinBackoff: time.Hour, MaxBackoff: time.Hour, Workers: 1}
		f.SetEndpoints(eps)
		fctx, stop := context.WithCancel(context.Background())
		fdone := make(chan struct{})
		go func() { f.Run(fctx); close(fdone) }()
		// Delivered (gone from the spool) or tried once.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if e, err := sp.Get(rid); err != nil || e.Attempts > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the forwarder did not try report %s within a minute", rid)
			}
		}
		stop()
		<-fdone
		return rid
	}

	rid := deliver(clientCert, clientKey)
	if _, err := sp.Get(rid); err == nil {
		t.Fatalf("with the relay's client certificate the report was not delivered")
	}
	if _, err := os.Stat(filepath.Join(inbox, rid+".json")); err != nil {
		t.Fatalf("the inbox lacks the opened report: %v", err)
	}
	for name, pair := range map[string][2]string{"no certificate": {}, "another CA's certificate": {strangerCert, strangerKey}} {
		rid := deliver(pair[0], pair[1])
		e, err := sp.Get(rid)
		if err != nil || e.Attempts != 1 || !strings.Contains(e.LastError, "failed to reach the intake") {
			t.Errorf("%s: %+v, %v; want the report kept for a retry", name, e, err)
		}
		if _, err := os.Stat(filepath.Join(inbox, rid+".age")); err == nil {
			t.Errorf("%s: the intake stored the report", name)
		}
	}
}

func TestIntakeOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(dir, "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	for name, tt := range map[string]struct {
		o    intakeOptions
		want string
	}{
		"no key":             {intakeOptions{identity: idFile}, "usage"},
		"no hotline":         {intakeOptions{identity: idFile, verifyKey: "whpk_x", inbox: dir}, "-hotline is required"},
		"client ca, no tls":  {intakeOptions{identity: idFile, hotline: "h1", verifyKey: "whpk_x", clientCA: "ca.pem"}, "-client-ca needs -tls-cert"},
		"secret signing key": {intakeOptions{identity: idFile, hotline: "h1", verifyKey: "whsk_AAAA", inbox: dir}, "whsk_"},
		"missing key file":   {intakeOptions{identity: idFile, hotline: "h1", verifyKeyFile: filepath.Join(dir, "none"), inbox: dir}, "read key file"},
	} {
		if _, _, _, err := tt.o.setup(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
}

// TestIntakeInboxInUse: a second intake on an inbox another intake uses
// (started twice by mistake) is refused before it touches the inbox, with
// what to do; once the first stops, the inbox is free again.
func TestIntakeInboxInUse(t *testing.T) {
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(dir, "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	o := intakeOptions{listen: "127.0.0.1:0", identity: idFile, inbox: filepath.Join(dir, "inbox"), hotline: "h1", path: "/v1/deliveries",
		verifyKey: "whpk_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), tolerance: delivery.DefaultTolerance, logOut: io.Discard}
	_, _, stopFirst := serveIntakeFor(t, o)
	_, stderr, code := run(t, "intake", "-identity", idFile, "-hotline", "h1", "-listen", "127.0.0.1:0", "-inbox", o.inbox,
		"-verify-key", o.verifyKey)
	if code == 0 || !strings.Contains(stderr, "another intake is using this inbox") || !strings.Contains(stderr, "hotline: hint:") {
		t.Errorf("a second intake on the inbox: exit %d\n%s\nwant a refusal that says so", code, stderr)
	}
	stopFirst()
	_, ln, _, err := o.setup()
	if err != nil {
		t.Fatalf("an intake on the inbox once the first stopped: %v", err)
	}
	ln.Close()
	releaseInbox(ln)
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/internal/testlog"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// heldIntake is a real intake whose first delivery waits until released,
// so a test can kill the relay while that delivery is under way.
type heldIntake struct {
	in      *intake.Intake
	arrived chan struct{}
	release chan struct{}
	mu      sync.Mutex
	n       int
	codes   []int
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (h *heldIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.n++
	first := h.n == 1
	h.mu.Unlock()
	if first {
		// The whole delivery has arrived when the relay is killed.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			panic(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		close(h.arrived)
		<-h.release
	}
	rec := &statusRecorder{ResponseWriter: w, code: 200}
	h.in.ServeHTTP(rec, r)
	h.mu.Lock()
	h.codes = append(h.codes, rec.code)
	h.mu.Unlock()
}

func (h *heldIntake) answers() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.codes...)
}

// A relay killed while a delivery is under way delivers the report again
// after a restart, and the intake takes the re-sent delivery for the
// duplicate it is (the report arrives once, no 409 replayed), even when
// the restarted relay signs within the same second as the killed one.
func TestKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	s.write(t, `retry_min = "1s"`, `color = "#000000"`)
	key, err := delivery.ReadKeyFile(s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := delivery.NewEd25519Signer(key)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := delivery.NewVerifier(signer.PublicKey())
	id, _ := age.GenerateHybridIdentity()
	inbox := t.TempDir()
	held := &heldIntake{arrived: make(chan struct{}), release: make(chan struct{}),
		in: &intake.Intake{Verifier: v, Inbox: inbox, Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)}}
	ts := httptest.NewServer(held)
	defer ts.Close()
	cfg, _ := os.ReadFile(s.cfgPath)
	os.WriteFile(s.cfgPath, []byte(strings.Replace(string(cfg), "http://127.0.0.1:9/v1/deliveries", ts.URL+"/v1/deliveries", 1)), 0o600)

	// A report already accepted, in the relay's spool.
	const rid = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	r := &report.Report{Version: 1, ID: rid, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam"}
	env, err := report.Seal(r, rcpts)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(filepath.Join(s.dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sp.Put(spool.Entry{ID: rid, Hotline: "h1", Site: "s1", Body: env}); err != nil {
		t.Fatal(err)
	}
	sp.Close()

	serve := func() (*exec.Cmd, *testlog.Buffer) {
		logs := &testlog.Buffer{}
		cmd := exec.Command(bin, "serve", "-config", s.cfgPath, "-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, logs
	}
	first, logs := serve()
	select {
	case <-held.arrived:
	case <-time.After(time.Minute):
		first.Process.Kill()
		t.Fatalf("no delivery arrived\n%s", logs)
	}
	first.Process.Kill()
	first.Wait()
	// The intake stores the report; its answer reaches no one.
	close(held.release)
	waitFor(t, "the held delivery to be stored", func() bool { return len(held.answers()) == 1 })

	second, logs := serve()
	defer func() { second.Process.Kill(); second.Wait() }()
	waitFor(t, "the re-sent delivery", func() bool { return len(held.answers()) >= 2 })
	for i, c := range held.answers() {
		if c != 200 {
			t.Errorf("delivery %d was answered %d (answers %v)\n%s", i+1, c, held.answers(), logs)
		}
	}
	if _, err := os.Stat(filepath.Join(inbox, rid+".json")); err != nil {
		t.Errorf("the report did not arrive: %v", err)
	}
	if got := len(mustReadDir(t, inbox)); got != 2 {
		t.Errorf("inbox holds %d files, want the report's two", got)
	}
}

func mustReadDir(t testing.TB, dir string) []os.DirEntry {
	t.Helper()
	e, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

package forward_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// answerLost stores each delivery with the real intake and then, for the
// first one, drops the answer, as when the relay is killed while the
// intake writes the report.
type answerLost struct {
	in *intake.Intake
	mu sync.Mutex
	n  int
	// codes are the intake's answers, lost ones included.
	codes []int
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (a *answerLost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	if a.n == 1 {
		rec := httptest.NewRecorder()
		a.in.ServeHTTP(rec, r)
		a.codes = append(a.codes, rec.Code)
		panic(http.ErrAbortHandler)
	}
	rec := &recorder{ResponseWriter: w, code: 200}
	a.in.ServeHTTP(rec, r)
	a.codes = append(a.codes, rec.code)
}

// A relay restarted after a crash re-sends a delivery whose answer it never
// saw, within the same second as the lost attempt. The intake must take it
// for the duplicate it is, not for a replay.
func TestResendAfterRestartIsNoReplay(t *testing.T) {
	sk, pk, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	v, _ := delivery.NewVerifier(pk)
	id, _ := age.GenerateHybridIdentity()
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	const rid = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	r := &report.Report{Version: 1, ID: rid, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam"}
	env, err := report.Seal(r, rcpts)
	if err != nil {
		t.Fatal(err)
	}
	inbox := t.TempDir()
	stub := &answerLost{in: &intake.Intake{Verifier: v, Inbox: inbox, Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)}}
	ts := httptest.NewServer(stub)
	defer ts.Close()
	// The spool as the relay left it when it was killed mid-delivery: the
	// report pending, its attempt not yet recorded.
	dir := t.TempDir()
	sp, err := spool.Open(filepath.Join(dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sp.Put(spool.Entry{ID: rid, Hotline: "h1", Site: "s1", Body: env}); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	b, err := os.ReadFile(filepath.Join(dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "restarted.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Both processes sign within the same second.
	second := time.Now().Truncate(time.Second)
	attempt := func(file string, offset time.Duration, want int) {
		sp, err := spool.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		f := &forward.Forwarder{Spool: sp, Log: slog.New(slog.DiscardHandler), MinBackoff: time.Hour, MaxBackoff: time.Hour,
			Workers: 1, Now: func() time.Time { return second.Add(offset) }}
		f.SetEndpoints(map[string]forward.Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: ts.Client(), Concurrency: 1}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { f.Run(ctx); close(done) }()
		deadline := time.Now().Add(60 * time.Second)
		for {
			stub.mu.Lock()
			n := len(stub.codes)
			stub.mu.Unlock()
			if n >= want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no delivery arrived")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
	}
	attempt("spool.db", 100*time.Millisecond, 1)
	attempt("restarted.db", 600*time.Millisecond, 2)
	stub.mu.Lock()
	defer stub.mu.Unlock()
	for i, c := range stub.codes {
		if c != 200 {
			t.Errorf("attempt %d answered %d; answers %v", i+1, c, stub.codes)
		}
	}
	if _, err := os.Stat(filepath.Join(inbox, rid+".json")); err != nil {
		t.Errorf("the report did not arrive: %v", err)
	}
}

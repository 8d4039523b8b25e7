package forward

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/relay/metrics"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// Against the real intake: it announces batches in its answer to a single
// delivery, then takes the reports due together in batches, stores each,
// and refuses, in its result, the one whose envelope was sealed for
// another report id, which the relay keeps and retries.
func TestBatchToRealIntake(t *testing.T) {
	sk, pk, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	v, _ := delivery.NewVerifier(pk)
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	rcpts, _ := report.ParseRecipients([]string{id.Recipient().String()})
	seal := func(reportID string) []byte {
		r := report.Report{Version: 1, ID: reportID, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam"}
		env, err := report.Seal(&r, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	dir := t.TempDir()
	in := &intake.Intake{Verifier: v, Inbox: filepath.Join(dir, "inbox"), Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(in)
	t.Cleanup(ts.Close)
	sp, err := spool.Open(filepath.Join(dir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	c := &counts{}
	f := &Forwarder{Spool: sp, Log: slog.New(slog.DiscardHandler), Metrics: c,
		MinBackoff: time.Hour, MaxBackoff: time.Hour, Workers: 64}
	// Batches of at most 8, room for four of them.
	f.SetEndpoints(map[string]Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: ts.Client(), Concurrency: 8}})
	putSealed := func(n int) []string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = uuid.NewString()
			if _, _, err := sp.Put(spool.Entry{ID: ids[i], Hotline: "h1", Site: "s1", Received: time.Now().Add(-time.Minute), Body: seal(ids[i])}); err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}

	putSealed(1)
	deliverOnce(t, f)
	if st := in.Stats(); st.Stored != 1 || st.Batches != 0 {
		t.Fatalf("one due report: the intake stored %d reports in %d batches, want 1 alone", st.Stored, st.Batches)
	}
	ids := putSealed(19)
	tampered := uuid.NewString()
	if _, _, err := sp.Put(spool.Entry{ID: tampered, Hotline: "h1", Site: "s1", Received: time.Now().Add(-time.Minute), Body: seal(ids[0])}); err != nil {
		t.Fatal(err)
	}
	deliverOnce(t, f)
	st := in.Stats()
	if st.Stored != 20 || st.Batches != 3 || st.Refused["tampered"] != 1 {
		t.Fatalf("20 due reports, one tampered: the intake stored %d in %d batches and refused %v; want 19 more in 3 batches of at most 8, one tampered",
			st.Stored, st.Batches, st.Refused)
	}
	gone(t, sp, ids...)
	e, err := sp.Get(tampered)
	if err != nil || e.Attempts != 1 || !strings.HasPrefix(e.LastError, "intake answered 422 (") || !strings.Contains(e.LastError, "tampered") {
		t.Errorf("the tampered report: %+v, %v; want it kept, retried, with the intake's 422 tampered", e, err)
	}
	if n := c.count(metrics.Batches, "h1"); n != 3 {
		t.Errorf("%d batches counted, want 3", n)
	}
}

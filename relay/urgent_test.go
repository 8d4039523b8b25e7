package relay

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/relay/forward"
	"github.com/reportline/reportline/report"
)

// TestUrgentMarker: a report the form marks urgent is delivered ahead of
// the reports already waiting, where the hotline takes the marker; where
// it does not, the marker is ignored and the form is told not to send it.
// The relay does not log it.
func TestUrgentMarker(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		f := newFixture(t)
		f.cfg.Hotline("h1").UrgentMarker = &allowed
		var ids []string
		for i := range 3 {
			id, body := f.sealed(t)
			hdr := []string{HeaderProof, f.proof(t, "s1")}
			if i == 2 {
				hdr = append(hdr, HeaderPriority, "urgent") // the last to come
			}
			if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, hdr...); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			ids = append(ids, id)
		}
		due, err := f.sp.Due(time.Now().Add(time.Minute), 0)
		if err != nil || len(due) != 3 {
			t.Fatalf("Due: %d reports, %v", len(due), err)
		}
		// Only the report marked urgent is stored as urgent, and only
		// where the hotline takes the marker.
		for _, e := range due {
			if want := allowed && e.ID == ids[2]; e.Urgent != want {
				t.Errorf("urgent_marker %v: report %d is stored urgent %v, want %v", allowed, slices.Index(ids, e.ID), e.Urgent, want)
			}
		}
		if allowed && due[0].ID != ids[2] {
			t.Errorf("the report marked urgent is not due first")
		}
		if strings.Contains(strings.ToLower(f.logs.String()), "urgent") {
			t.Errorf("the relay logged the marker:\n%s", f.logs)
		}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/w/s1?o=https://partner.example", nil))
		if told := strings.Contains(rec.Body.String(), `"urgent":true`); told != allowed {
			t.Errorf("urgent_marker %v: the frame's configuration tells the form to mark: %v", allowed, told)
		}
	}
}

// TestUrgentDeliveredFirst: three reports wait for a hotline, then an
// urgent one comes; the intake receives the urgent one first, then the
// others, and files it in its urgent folder.
func TestUrgentDeliveredFirst(t *testing.T) {
	f := newFixture(t)
	seal := func(urgent string) (string, []byte) {
		id := uuid.NewString()
		r := &report.Report{Version: report.Version, Minor: report.Minor, ID: id, Hotline: "h1", Site: "s1",
			Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/" + id}},
			SeenOn:    "website", Content: "image", Category: "csam", Urgent: urgent}
		b, err := report.Seal(r, f.rcpts)
		if err != nil {
			t.Fatal(err)
		}
		return id, b
	}
	var waiting []string
	for i := range 4 {
		answer, hdr := "no", []string{HeaderProof, f.proof(t, "s1")}
		if i == 3 {
			answer, hdr = "yes", append(hdr, HeaderPriority, "urgent")
		}
		id, body := seal(answer)
		if rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, hdr...); rec.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		waiting = append(waiting, id)
	}

	sk, pk, _ := delivery.GenerateEd25519()
	signer, _ := delivery.NewEd25519Signer(sk)
	v, _ := delivery.NewVerifier(pk)
	var mu sync.Mutex
	var got []string
	inbox := t.TempDir()
	in := &intake.Intake{Verifier: v, Inbox: inbox, Identities: []age.Identity{f.id}, Hotline: "h1",
		Log: slog.New(slog.DiscardHandler), Opened: func(o *intake.Opened) {
			mu.Lock()
			got = append(got, o.ID)
			mu.Unlock()
		}}
	ts := httptest.NewServer(in)
	defer ts.Close()
	fw := &forward.Forwarder{Spool: f.sp, Log: slog.New(slog.DiscardHandler), MinBackoff: time.Hour, MaxBackoff: time.Hour, Workers: 1}
	fw.SetEndpoints(map[string]forward.Endpoint{"h1": {URL: ts.URL, Signer: signer, Client: ts.Client(), Concurrency: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fw.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == len(waiting) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reports reached the intake", n, len(waiting))
		}
	}
	// The others came within the same second: the spool orders them by
	// id, so only the urgent one's place is fixed.
	if got[0] != waiting[3] || !slices.Equal(slices.Sorted(slices.Values(got[1:])), slices.Sorted(slices.Values(waiting[:3]))) {
		t.Errorf("the intake received %v, want the urgent report %s first, then %v", got, waiting[3], waiting[:3])
	}
	if _, err := os.Stat(filepath.Join(inbox, intake.UrgentDir, waiting[3]+".json")); err != nil {
		t.Errorf("the urgent report is not in the intake's urgent folder: %v", err)
	}
}

package relay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
		urgentFirst := due[0].ID == ids[2]
		if urgentFirst != allowed {
			t.Errorf("urgent_marker %v: the report marked urgent is delivered first: %v", allowed, urgentFirst)
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

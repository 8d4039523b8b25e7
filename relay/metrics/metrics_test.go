package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/relay/spool"
)

type fakeStats struct {
	st  spool.Stats
	err error
}

func (f fakeStats) Stats() (spool.Stats, error) { return f.st, f.err }

func scrape(t *testing.T, p *Prometheus) string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestCountersAndGauges(t *testing.T) {
	oldest := time.Now().Add(-90 * time.Second)
	p := New(fakeStats{st: spool.Stats{Pending: 3, Dead: 1, Oldest: oldest}})
	var r Recorder = p
	r.Inc(Accepted, "h1")
	r.Inc(Accepted, "h1")
	r.Inc(Rejected, "bad-envelope")
	r.Inc(Delivered, "h1")
	r.Inc(Retries, "h1")
	r.Inc(DeadLettered, "h1")
	r.Inc(Alarms, "intake_gone")
	r.Set(IntakeStopped, "h1", 1)
	p.SetPoWDifficulty(18)
	out := scrape(t, p)
	for _, want := range []string{
		`reportline_reports_accepted_total{hotline="h1"} 2`,
		`reportline_reports_rejected_total{reason="bad-envelope"} 1`,
		`reportline_reports_delivered_total{hotline="h1"} 1`,
		`reportline_delivery_retries_total{hotline="h1"} 1`,
		`reportline_reports_dead_lettered_total{hotline="h1"} 1`,
		`reportline_alarms_total{kind="intake_gone"} 1`,
		`reportline_intake_stopped{hotline="h1"} 1`,
		`reportline_pow_difficulty 18`,
		`reportline_spool_pending 3`,
		`reportline_spool_dead 1`,
		`reportline_spool_readable 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	var age float64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "reportline_spool_oldest_age_seconds ") {
			fmt.Sscan(strings.TrimPrefix(line, "reportline_spool_oldest_age_seconds "), &age)
		}
	}
	if age < 89 || age > 120 {
		t.Errorf("oldest age %v, want about 90 s", age)
	}
}

func TestSpoolUnreadable(t *testing.T) {
	p := New(fakeStats{err: errors.New("disk gone")})
	out := scrape(t, p)
	if !strings.Contains(out, "reportline_spool_readable 0") || strings.Contains(out, "reportline_spool_pending") {
		t.Errorf("an unreadable spool should show readable 0 and no queue gauges:\n%s", out)
	}
}

func TestLabelValuesBounded(t *testing.T) {
	p := New(nil)
	for i := range maxLabelValues + 10 {
		p.Inc(Rejected, fmt.Sprintf("reason-%d", i))
	}
	out := scrape(t, p)
	if n := strings.Count(out, "reportline_reports_rejected_total{"); n != maxLabelValues+1 {
		t.Errorf("%d label values, want %d and \"other\"", n, maxLabelValues+1)
	}
	if !strings.Contains(out, `reportline_reports_rejected_total{reason="other"} 10`) {
		t.Error("values past the bound are not counted as other")
	}
}

func TestReadPoWDifficulty(t *testing.T) {
	p := New(nil)
	level := 1000.0
	p.ReadPoWDifficulty(func() float64 { return level })
	if out := scrape(t, p); !strings.Contains(out, "reportline_pow_difficulty 1000\n") {
		t.Errorf("scrape lacks the difficulty read at scrape time")
	}
	level = 4000
	if out := scrape(t, p); !strings.Contains(out, "reportline_pow_difficulty 4000\n") {
		t.Errorf("scrape did not read the new difficulty")
	}
}

// TestDiscard: the relay's default recorder keeps nothing, so it costs
// nothing on the report path: no allocation for any counter or gauge,
// whatever the label.
func TestDiscard(t *testing.T) {
	label := strings.Repeat("x", 100)
	allocs := testing.AllocsPerRun(100, func() {
		for c := range numCounters {
			Discard.Inc(c, label)
		}
		for g := range numGauges {
			Discard.Set(g, label, 1)
		}
	})
	if allocs != 0 {
		t.Errorf("Discard allocated %v times a round; it must keep nothing", allocs)
	}
}

package forward

import (
	"context"
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/relay/metrics"
)

// TestDeliveryDelayObserved: a report delivered after a failed attempt is
// observed once, under its hotline, with a delay at least as long as it
// waited since the time of receipt the spool holds; the failed attempt is
// not observed.
func TestDeliveryDelayObserved(t *testing.T) {
	f, _, sp := setup(t, 503, 202)
	c := f.Metrics.(*counts)
	received := time.Now().Add(-3 * time.Hour)
	put(t, sp, id1, received)
	f.deliverDue(context.Background())
	if got := c.observed(metrics.DeliveryDelay, "h1"); len(got) != 0 {
		t.Fatalf("a failed attempt observed delays %v", got)
	}
	if err := sp.Reschedule(id1, time.Now().Add(-time.Second), "due again for the test"); err != nil {
		t.Fatal(err)
	}
	if n, err := f.deliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("deliverDue = %d, %v", n, err)
	}
	waited := time.Since(received)
	got := c.observed(metrics.DeliveryDelay, "h1")
	if len(got) != 1 || c.count(metrics.Delivered, "h1") != 1 {
		t.Fatalf("one delivery observed delays %v and counted %d deliveries, want one of each", got, c.count(metrics.Delivered, "h1"))
	}
	// The spool keeps the time of receipt to the second, rounded down.
	if got[0] < 3*time.Hour || got[0] > waited+time.Second {
		t.Errorf("delay %v, want between 3h and the %v the report waited", got[0], waited)
	}
}

// TestDeliveryDelayOnMetrics: on /metrics the delay is in seconds, under
// the hotline's id, and no label names the report or its site.
func TestDeliveryDelayOnMetrics(t *testing.T) {
	f, _, sp := setup(t, 200)
	p := metrics.New(sp)
	f.Metrics = p
	put(t, sp, id1, time.Now().Add(-2*time.Hour))
	if n, err := f.deliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("deliverDue = %d, %v", n, err)
	}
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	out := string(b)
	m := regexp.MustCompile(`(?m)^reportline_report_delivery_delay_seconds_sum\{hotline="h1"\} (\S+)$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `reportline_report_delivery_delay_seconds_count{hotline="h1"} 1`+"\n") {
		t.Fatalf("/metrics lacks one delivery delay for h1:\n%s", out)
	}
	if sum, _ := strconv.ParseFloat(m[1], 64); sum < 7200 || sum > 7300 {
		t.Errorf("delay sum %v s, want about 7200", sum)
	}
	for _, leak := range []string{id1, `"s1"`, "age-envelope"} {
		if strings.Contains(out, leak) {
			t.Errorf("/metrics holds %s", leak)
		}
	}
}

package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
		for h := range numHistograms {
			Discard.Observe(h, label, time.Second)
		}
	})
	if allocs != 0 {
		t.Errorf("Discard allocated %v times a round; it must keep nothing", allocs)
	}
}

// value returns the value of the series named (with its labels, as
// exposed) in a scrape, and whether it is there.
func value(t *testing.T, out, series string) (float64, bool) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v, true
}

// expect checks the values of series in a scrape.
func expect(t *testing.T, out string, want map[string]float64) {
	t.Helper()
	for series, w := range want {
		if v, ok := value(t, out, series); !ok || v != w {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, w)
		}
	}
}

// TestHistograms: each observation lands in the buckets at and above its
// duration, in seconds, under its label; a negative one counts as zero.
func TestHistograms(t *testing.T) {
	p := New(nil)
	var r Recorder = p
	r.Observe(AcceptTime, "", 3*time.Millisecond)
	r.Observe(AcceptTime, "", 2*time.Second)
	r.Observe(DeliveryDelay, "h1", 2*time.Hour)
	r.Observe(DeliveryDelay, "h2", -time.Second)
	out := scrape(t, p)
	expect(t, out, map[string]float64{
		`reportline_report_accept_seconds_count`:                                   2,
		`reportline_report_accept_seconds_sum`:                                     2.003,
		`reportline_report_accept_seconds_bucket{le="0.0025"}`:                     0,
		`reportline_report_accept_seconds_bucket{le="0.005"}`:                      1,
		`reportline_report_accept_seconds_bucket{le="2.5"}`:                        2,
		`reportline_report_delivery_delay_seconds_count{hotline="h1"}`:             1,
		`reportline_report_delivery_delay_seconds_sum{hotline="h1"}`:               7200,
		`reportline_report_delivery_delay_seconds_bucket{hotline="h1",le="3600"}`:  0,
		`reportline_report_delivery_delay_seconds_bucket{hotline="h1",le="10800"}`: 1,
		`reportline_report_delivery_delay_seconds_sum{hotline="h2"}`:               0,
		`reportline_report_delivery_delay_seconds_bucket{hotline="h2",le="0.1"}`:   1,
	})
	for h, d := range histogramDescs {
		if n := len(d.buckets); n < 10 || d.buckets[0] > 0.1 || d.buckets[n-1] < 10 {
			t.Errorf("histogram %d (%s): buckets %v do not span its range", h, d.name, d.buckets)
		}
	}
	if b := histogramDescs[AcceptTime].buckets; b[0] > 0.001 {
		t.Errorf("the accept histogram's first bucket %v s cannot tell a fast fsync from a slow one", b[0])
	}
	if b := histogramDescs[DeliveryDelay].buckets; b[len(b)-1] < 24*3600 {
		t.Errorf("the delivery delay's last bucket %v s is shorter than a day's outage", b[len(b)-1])
	}
}

// TestHistogramLabelsBounded: a histogram's label values are bounded as
// a counter's are.
func TestHistogramLabelsBounded(t *testing.T) {
	p := New(nil)
	for i := range maxLabelValues + 5 {
		p.Observe(DeliveryDelay, fmt.Sprintf("h%d", i), time.Second)
	}
	out := scrape(t, p)
	if n := strings.Count(out, "reportline_report_delivery_delay_seconds_count{"); n != maxLabelValues+1 {
		t.Errorf("%d label values, want %d and \"other\"", n, maxLabelValues+1)
	}
	expect(t, out, map[string]float64{`reportline_report_delivery_delay_seconds_count{hotline="other"}`: 5})
}

type fakeCommits struct{ c spool.Commits }

func (f *fakeCommits) Commits() spool.Commits { return f.c }

// TestCommits: the commit counters are read from the store at each
// scrape, and absent for a store that has none.
func TestCommits(t *testing.T) {
	p := New(nil)
	if out := scrape(t, p); strings.Contains(out, "reportline_spool_commit") {
		t.Fatalf("commit counters without a store that counts them:\n%s", out)
	}
	src := &fakeCommits{spool.Commits{N: 5, Time: 250 * time.Millisecond}}
	p.ReadCommits(src)
	expect(t, scrape(t, p), map[string]float64{"reportline_spool_commits_total": 5, "reportline_spool_commit_seconds_total": 0.25})
	src.c = spool.Commits{N: 9, Time: 1500 * time.Millisecond}
	expect(t, scrape(t, p), map[string]float64{"reportline_spool_commits_total": 9, "reportline_spool_commit_seconds_total": 1.5})
}

// TestDocsListEveryMetric: docs/relay-api.md names every metric of the
// relay's registry.
func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "relay-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	p := New(fakeStats{st: spool.Stats{Pending: 1}})
	p.ReadCommits(&fakeCommits{})
	// A vector shows only once it has a value.
	for c := range numCounters {
		p.Inc(c, "x")
	}
	for g := range numGauges {
		p.Set(g, "x", 1)
	}
	for h := range numHistograms {
		p.Observe(h, "x", time.Second)
	}
	families, err := p.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, "reportline_") {
			continue
		}
		n++
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/relay-api.md does not list %s", name)
		}
	}
	if n < int(numCounters)+int(numGauges)+int(numHistograms)+2 {
		t.Errorf("only %d of the relay's metrics gathered; the check above proves little", n)
	}
}

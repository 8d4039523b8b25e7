// Package metrics counts what the relay does and exposes it to Prometheus,
// in the text exposition format at /metrics, as listed in docs/relay-api.md.
//
// The relay and the forwarder see only the small [Recorder]
// interface, so they do not depend on Prometheus and a test can count
// with [Discard] or its own stand-in. Label values are ids from the
// configuration (hotline ids) or fixed names (problem types, alarm kinds):
// never a client address, a report body or a key.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reportline/reportline/relay/spool"
)

// Recorder receives the relay's events. Implementations must be safe for
// concurrent use.
type Recorder interface {
	// Inc adds one to a counter. label is the counter's one label value
	// (see [Counter]), or "" for none.
	Inc(c Counter, label string)
	// Set sets a gauge. label is the gauge's one label value (see
	// [Gauge]), or "" for a gauge without labels.
	Set(g Gauge, label string, v float64)
	// Observe adds a duration to a histogram. label is the histogram's
	// one label value (see [Histogram]), or "" for one without labels.
	Observe(h Histogram, label string, d time.Duration)
}

// Counter names a counter. Each has one label, named in its comment.
type Counter int

// The counters.
const (
	// Accepted counts reports stored by the relay; label: hotline.
	Accepted Counter = iota
	// Rejected counts refused report submissions; label: reason, the
	// problem type's name ("bad-envelope", "too-large", …).
	Rejected
	// Delivered counts reports the hotline's intake acknowledged with a
	// 2xx; label: hotline.
	Delivered
	// Retries counts failed delivery attempts that were rescheduled;
	// label: hotline.
	Retries
	// DeadLettered counts reports moved to the dead-letter area; label:
	// hotline.
	DeadLettered
	// Alarms counts events an operator must act on; label: kind
	// ("intake_gone", "dead_letter", "config_reload_failed").
	Alarms
	// ConfigReloads counts configuration reloads; label: result ("ok",
	// "error").
	ConfigReloads
	// Batches counts batched deliveries sent, each holding several
	// reports (which count in Delivered and Retries as any other);
	// label: hotline.
	Batches
	numCounters
)

// Gauge names a gauge.
type Gauge int

// The gauges that callers set. The spool's gauges (pending, dead, age of
// the oldest) are read from the spool at each scrape instead.
const (
	// PoWDifficulty is the proof-of-work difficulty the relay currently
	// asks of browsers, in the unit its challenges use; no label.
	PoWDifficulty Gauge = iota
	// IntakeStopped is 1 while delivery to a hotline is stopped because
	// its intake answered 410 Gone, else 0; label: hotline.
	IntakeStopped
	// ConfigLoaded is 1 while a valid configuration is in use; no label.
	ConfigLoaded
	// StatementValidUntil is when the key statement in force for a
	// hotline expires, in Unix seconds; label: hotline.
	StatementValidUntil
	numGauges
)

// Histogram names a histogram of durations, kept in seconds.
type Histogram int

// The histograms.
const (
	// AcceptTime is how long the relay took to accept a report: from the
	// start of its request's handling (its headers read) to its 202
	// answer, the body's reading and the durable write included. Only
	// reports newly stored are observed; no label.
	AcceptTime Histogram = iota
	// DeliveryDelay is how long a report waited between its receipt by
	// the relay (the spool entry's Received) and its intake's 2xx,
	// observed once it is removed from the spool; label: hotline.
	DeliveryDelay
	numHistograms
)

// Discard is a Recorder that records nothing.
var Discard Recorder = discard{}

type discard struct{}

func (discard) Inc(Counter, string)                      {}
func (discard) Set(Gauge, string, float64)               {}
func (discard) Observe(Histogram, string, time.Duration) {}

// maxLabelValues bounds the distinct label values per metric, so that a
// bug passing free-form text as a label cannot grow the registry without
// bound; later values are counted under "other".
const maxLabelValues = 64

type vecDesc struct {
	name, help, label string
}

type histDesc struct {
	vecDesc
	buckets []float64 // upper bounds, in seconds
}

var counterDescs = [numCounters]vecDesc{
	Accepted:      {"reportline_reports_accepted_total", "Reports stored by the relay.", "hotline"},
	Rejected:      {"reportline_reports_rejected_total", "Report submissions refused, by problem type.", "reason"},
	Delivered:     {"reportline_reports_delivered_total", "Reports acknowledged by a hotline's intake.", "hotline"},
	Retries:       {"reportline_delivery_retries_total", "Failed delivery attempts that were rescheduled.", "hotline"},
	DeadLettered:  {"reportline_reports_dead_lettered_total", "Reports moved to the dead-letter area.", "hotline"},
	Alarms:        {"reportline_alarms_total", "Events an operator must act on, by kind.", "kind"},
	ConfigReloads: {"reportline_config_reloads_total", "Configuration reloads, by result.", "result"},
	Batches:       {"reportline_delivery_batches_total", "Batched deliveries sent, each holding several reports.", "hotline"},
}

var gaugeDescs = [numGauges]vecDesc{
	PoWDifficulty: {"reportline_pow_difficulty", "Proof-of-work difficulty currently asked of browsers.", ""},
	IntakeStopped: {"reportline_intake_stopped", "1 while delivery to a hotline is stopped after its intake answered 410 Gone.", "hotline"},
	ConfigLoaded:  {"reportline_config_loaded", "1 while a valid configuration is in use.", ""},
	StatementValidUntil: {"reportline_key_statement_valid_until_seconds",
		"When the hotline's key statement in force expires, in Unix seconds: the report form seals to it no longer after that.", "hotline"},
}

var histogramDescs = [numHistograms]histDesc{
	// A report's durable write is an fsync of about a millisecond; a
	// busy or failing disk, or a slow body, takes seconds.
	AcceptTime: {vecDesc{"reportline_report_accept_seconds",
		"Time to accept a report, from the start of its request to its 202 answer, the durable write included.", ""},
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
	// A delivery takes well under a second; a backlog or an intake's
	// outage keeps reports for hours, and retries go on for days.
	DeliveryDelay: {vecDesc{"reportline_report_delivery_delay_seconds",
		"Time from a report's receipt by the relay to its intake's acknowledgement.", "hotline"},
		[]float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600}},
}

// StatsSource is what the spool gauges are read from; *spool.Spool is one.
type StatsSource interface {
	Stats() (spool.Stats, error)
}

// Prometheus is a Recorder that keeps its values in a Prometheus registry
// and serves them with [Prometheus.Handler].
type Prometheus struct {
	reg      *prometheus.Registry
	counters [numCounters]*prometheus.CounterVec
	gauges   [numGauges]*prometheus.GaugeVec
	plain    [numGauges]prometheus.Gauge
	hists    [numHistograms]*prometheus.HistogramVec
	plainH   [numHistograms]prometheus.Histogram
	commits  commitCollector

	mu   sync.Mutex
	seen map[string]map[string]bool // metric name → label values in use
	pow  func() float64             // read at each scrape, if set
}

// New returns a registry with the relay's counters and gauges, the Go
// runtime and process collectors, and, if stats is not nil, the spool
// gauges, read from stats at each scrape.
func New(stats StatsSource) *Prometheus {
	p := &Prometheus{reg: prometheus.NewRegistry(), seen: map[string]map[string]bool{}}
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for i, d := range counterDescs {
		p.counters[i] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: d.name, Help: d.help}, []string{d.label})
		p.reg.MustRegister(p.counters[i])
	}
	for i, d := range gaugeDescs {
		if d.label == "" {
			p.plain[i] = prometheus.NewGauge(prometheus.GaugeOpts{Name: d.name, Help: d.help})
			p.reg.MustRegister(p.plain[i])
			continue
		}
		p.gauges[i] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: d.name, Help: d.help}, []string{d.label})
		p.reg.MustRegister(p.gauges[i])
	}
	for i, d := range histogramDescs {
		opts := prometheus.HistogramOpts{Name: d.name, Help: d.help, Buckets: d.buckets}
		if d.label == "" {
			p.plainH[i] = prometheus.NewHistogram(opts)
			p.reg.MustRegister(p.plainH[i])
			continue
		}
		p.hists[i] = prometheus.NewHistogramVec(opts, []string{d.label})
		p.reg.MustRegister(p.hists[i])
	}
	p.reg.MustRegister(&p.commits)
	if stats != nil {
		p.reg.MustRegister(&spoolCollector{stats: stats, now: time.Now})
	}
	return p
}

// Inc implements [Recorder].
func (p *Prometheus) Inc(c Counter, label string) {
	if c < 0 || c >= numCounters {
		return
	}
	p.counters[c].WithLabelValues(p.bound(counterDescs[c].name, label)).Inc()
}

// Set implements [Recorder].
func (p *Prometheus) Set(g Gauge, label string, v float64) {
	if g < 0 || g >= numGauges {
		return
	}
	if p.plain[g] != nil {
		p.plain[g].Set(v)
		return
	}
	p.gauges[g].WithLabelValues(p.bound(gaugeDescs[g].name, label)).Set(v)
}

// Observe implements [Recorder]. A negative duration (the wall clock
// stepped back) is observed as zero.
func (p *Prometheus) Observe(h Histogram, label string, d time.Duration) {
	if h < 0 || h >= numHistograms {
		return
	}
	v := max(0, d.Seconds())
	if p.plainH[h] != nil {
		p.plainH[h].Observe(v)
		return
	}
	p.hists[h].WithLabelValues(p.bound(histogramDescs[h].name, label)).Observe(v)
}

// SetPoWDifficulty records the proof-of-work difficulty the relay asks of
// browsers now. It is Set(PoWDifficulty, "", d), for code that changes
// the difficulty and wants to say so; see also ReadPoWDifficulty.
func (p *Prometheus) SetPoWDifficulty(d float64) { p.Set(PoWDifficulty, "", d) }

// ReadPoWDifficulty makes each scrape read the proof-of-work difficulty
// from f (such as the relay's Server.Difficulty), so that nobody has to
// report each change. Call it before serving.
func (p *Prometheus) ReadPoWDifficulty(f func() float64) {
	p.mu.Lock()
	p.pow = f
	p.mu.Unlock()
}

// CommitSource is a store that counts its durable commits; *spool.Spool
// is one.
type CommitSource interface {
	Commits() spool.Commits
}

var _ CommitSource = (*spool.Spool)(nil)

// ReadCommits makes each scrape read the store's durable commits from
// src, as reportline_spool_commits_total and
// reportline_spool_commit_seconds_total. Without it (a store that has no
// commits of its own, such as JetStream's) neither is shown. Call it
// before serving.
func (p *Prometheus) ReadCommits(src CommitSource) {
	p.commits.mu.Lock()
	p.commits.src = src
	p.commits.mu.Unlock()
}

// bound returns label, or "other" once a metric has maxLabelValues
// distinct values.
func (p *Prometheus) bound(metric, label string) string {
	if len(label) > 64 {
		label = label[:64]
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.seen[metric]
	if s == nil {
		s = map[string]bool{}
		p.seen[metric] = s
	}
	if s[label] {
		return label
	}
	if len(s) >= maxLabelValues {
		return "other"
	}
	s[label] = true
	return label
}

// Handler serves the metrics in the Prometheus text format. Errors while
// gathering are logged nowhere and answered as HTTP 500, so that nothing
// about a request reaches a log.
func (p *Prometheus) Handler() http.Handler {
	h := promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		f := p.pow
		p.mu.Unlock()
		if f != nil {
			p.plain[PoWDifficulty].Set(f())
		}
		h.ServeHTTP(w, r)
	})
}

// Registry returns the underlying registry, for a caller that wants to
// add its own collectors.
func (p *Prometheus) Registry() *prometheus.Registry { return p.reg }

// spoolCollector reads the spool's statistics once per scrape.
type spoolCollector struct {
	stats StatsSource
	now   func() time.Time
}

var (
	descPending = prometheus.NewDesc("reportline_spool_pending", "Reports waiting to be delivered (queue depth).", nil, nil)
	descDead    = prometheus.NewDesc("reportline_spool_dead", "Reports in the dead-letter area, waiting for an operator.", nil, nil)
	descOldest  = prometheus.NewDesc("reportline_spool_oldest_age_seconds", "Age of the oldest report waiting to be delivered; 0 if none.", nil, nil)
	descUp      = prometheus.NewDesc("reportline_spool_readable", "1 if the spool's statistics could be read at this scrape.", nil, nil)
)

func (c *spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPending
	ch <- descDead
	ch <- descOldest
	ch <- descUp
}

func (c *spoolCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.stats.Stats()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	age := 0.0
	if !st.Oldest.IsZero() {
		age = max(0, c.now().Sub(st.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(descDead, prometheus.GaugeValue, float64(st.Dead))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
}

// commitCollector reads a store's commit counts once per scrape, if it
// has a source.
type commitCollector struct {
	mu  sync.Mutex
	src CommitSource
}

var (
	descCommits    = prometheus.NewDesc("reportline_spool_commits_total", "Write transactions the spool committed to disk, each with its fsync.", nil, nil)
	descCommitTime = prometheus.NewDesc("reportline_spool_commit_seconds_total", "Time the spool's committed write transactions took, fsync included.", nil, nil)
)

func (c *commitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCommits
	ch <- descCommitTime
}

func (c *commitCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	if src == nil {
		return
	}
	n := src.Commits()
	ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(n.N))
	ch <- prometheus.MustNewConstMetric(descCommitTime, prometheus.CounterValue, n.Time.Seconds())
}

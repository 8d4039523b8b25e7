package intake

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/cputime"
)

// BenchmarkIntake measures the intake alone: b.N signed deliveries of
// different reports, sealed beforehand, stored by 32 senders at once, as
// the relay's default concurrency sends them. It reports the CPU time per
// report (the steady figure on a shared machine: see docs/benchmarks.md),
// what the intake wrote to the disk per report, and reports/s.
func BenchmarkIntake(b *testing.B) {
	benchIntake(b, 1)
}

// BenchmarkIntakeBatch is BenchmarkIntake with the reports sent in
// batches of BatchSize, 32 batches at once: b.N counts reports, so that
// its figures (and ns/op) compare with BenchmarkIntake's in the same run.
func BenchmarkIntakeBatch(b *testing.B) {
	benchIntake(b, BatchSize)
}

// benchIntake delivers b.N reports, size to a request (a single delivery
// for 1, else a batch), from 32 senders at once.
func benchIntake(b *testing.B, size int) {
	f := newFixture(b)
	ts := time.Now()
	var ids []string
	var bodies [][]byte
	for start := 0; start < b.N; start += size {
		if size == 1 {
			id := uuid.NewString()
			ids, bodies = append(ids, id), append(bodies, f.payload(b, id))
			continue
		}
		var ds []delivery.Data
		for range min(size, b.N-start) {
			ds = append(ds, f.data(b, uuid.NewString(), f.rcpts))
		}
		ids, bodies = append(ids, uuid.NewString()), append(bodies, batchBody(ts, ds...))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu, io := time.Now(), cputime.Used(), cputime.Written()
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				rec := f.deliver(b, ids[i], bodies[i], ts, f.signer)
				if rec.Code != 200 || strings.Count(rec.Body.String(), `"stored"`) != min(size, b.N-i*size) {
					b.Errorf("delivery %d: %d %s", i, rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpu, written := time.Since(start), cputime.Used()-cpu, cputime.Written()
	b.StopTimer()
	if io >= 0 && written >= 0 {
		b.ReportMetric(float64(written-io)/float64(b.N)/1024, "disk-KB/report")
	}
	b.ReportMetric(float64(cpu)/float64(b.N)/1e3, "cpu-µs/report")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reports/s")
	if st := f.in.Stats(); st.Stored > 0 {
		b.ReportMetric(float64(st.Flushes)/float64(st.Stored), "flushes/report")
	}
}

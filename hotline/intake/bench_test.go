package intake

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/internal/cputime"
)

// BenchmarkIntake measures the intake alone: b.N signed deliveries of
// different reports, sealed beforehand, stored by 32 senders at once, as
// the relay's default concurrency sends them. It reports the CPU time per
// report (the steady figure on a shared machine: see docs/benchmarks.md),
// what the intake wrote to the disk per report, and reports/s.
func BenchmarkIntake(b *testing.B) {
	f := newFixture(b)
	ids, bodies := make([]string, b.N), make([][]byte, b.N)
	for i := range b.N {
		ids[i] = uuid.NewString()
		bodies[i] = f.payload(b, ids[i])
	}
	ts := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu, io := time.Now(), cputime.Used(), cputime.Written()
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if rec := f.deliver(b, ids[i], bodies[i], ts, f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
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
}

package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/cputime"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// BenchmarkDrainProcesses is BenchmarkDrain (relay/forward) as an
// operator runs it: the relay and `hotline intake` as two processes on
// loopback, each with its defaults, the hotline's key from `hotline
// keygen` (post-quantum, the default), and a spool holding b.N reports of
// ordinary size when the relay starts (run it with -benchtime=100000x).
// The clock runs from the relay's start until the intake counts b.N
// reports stored; then every report must be in the inbox, both its files.
// Reported: deliveries/s (goal ≥ 2,000/s), the CPU per delivery of each
// process and of both, what each wrote to storage per delivery, and each
// process's peak anonymous memory (the relay's goal ≤ 64 MB).
func BenchmarkDrainProcesses(b *testing.B) {
	relayBin, hotlineBin := testbin.Build(b, "relay"), testbin.BuildPackage(b, "hotline", "../hotline")
	s := newSetup(b)
	hotlineDir := b.TempDir()
	inbox, idFile := filepath.Join(hotlineDir, "inbox"), filepath.Join(hotlineDir, "identity.txt")
	out, err := exec.Command(hotlineBin, "keygen", "-o", idFile).CombinedOutput()
	recipient := regexp.MustCompile(`age1[0-9a-z]+`).FindString(string(out))
	if err != nil || recipient == "" {
		b.Fatalf("hotline keygen: %v\n%s", err, out)
	}
	s.recipient = recipient
	rcpts, err := report.ParseRecipients([]string{recipient})
	if err != nil {
		b.Fatal(err)
	}
	key, err := delivery.ReadKeyFile(s.keyFile)
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := delivery.NewEd25519Signer(key)
	intakeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	s.write(b, "", `color = "#000000"`)
	cfg, _ := os.ReadFile(s.cfgPath)
	s.writeConfig(b, strings.Replace(string(cfg), "http://127.0.0.1:9/v1/deliveries", "http://"+intakeAddr+"/v1/deliveries", 1))
	fillBacklog(b, filepath.Join(s.dir, "spool.db"), b.N, rcpts)

	intake := startProc(b, "", nil, hotlineBin, "intake", "-listen", intakeAddr, "-identity", idFile,
		"-inbox", inbox, "-verify-key", signer.PublicKey(), "-hotline", "h1")
	intake.waitUntil(b, "the intake to listen", logHas(intake.out, "intake listening"))

	b.ResetTimer()
	intakeCPU0, intakeIO0 := cputime.UsedBy(intake.pid()), cputime.WrittenBy(intake.pid())
	start := time.Now()
	relay := startProc(b, "", nil, relayBin, "serve", "-config", s.cfgPath)
	peaks := samplePeaks(relay, intake)
	// Polled, not waited on: there is no event to wait for but the
	// intake's count, and each poll is one small request. (The relay's
	// own metrics count its spool, which costs more the more it holds.)
	deadline := time.Now().Add(time.Duration(b.N)*20*time.Millisecond + 2*time.Minute)
	for stored(intakeAddr) < b.N {
		if !relay.alive() || !intake.alive() || time.Now().After(deadline) {
			peaks()
			b.Fatalf("%d of %d stored\nrelay:\n%s\nintake:\n%s", stored(intakeAddr), b.N, tail(relay.out.String()), tail(intake.out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	counts := intakeMetrics(intakeAddr)
	relayCPU, intakeCPU := cputime.UsedBy(relay.pid()), cputime.UsedBy(intake.pid())-intakeCPU0
	relayIO, intakeIO := cputime.WrittenBy(relay.pid()), cputime.WrittenBy(intake.pid())-intakeIO0
	b.StopTimer()
	peak := peaks()
	relay.kill()
	intake.kill()

	if n := storedReports(b, inbox); n != b.N {
		b.Fatalf("the inbox holds %d reports with both files, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(relayCPU+intakeCPU)/float64(b.N)/1e3, "cpu-µs/delivery")
	b.ReportMetric(float64(relayCPU)/float64(b.N)/1e3, "relay-cpu-µs/delivery")
	b.ReportMetric(float64(intakeCPU)/float64(b.N)/1e3, "intake-cpu-µs/delivery")
	if relayIO >= 0 && intakeIO0 >= 0 {
		b.ReportMetric(float64(relayIO)/float64(b.N)/1024, "relay-disk-KB/delivery")
		b.ReportMetric(float64(intakeIO)/float64(b.N)/1024, "intake-disk-KB/delivery")
	}
	// As in BenchmarkDrain: the share of the drain during which the
	// intake's inbox was being flushed (near 1, its disk holds the drain).
	b.ReportMetric(counts["reportline_intake_flush_seconds_total"]/elapsed.Seconds(), "flush-busy")
	b.ReportMetric(counts["reportline_intake_flushes_total"]/float64(b.N), "flushes/delivery")
	b.ReportMetric(counts["reportline_intake_batches_total"]/float64(b.N), "batches/delivery")
	b.ReportMetric(float64(peak[0])/1024, "relay-peak-anon-MB")
	b.ReportMetric(float64(peak[1])/1024, "intake-peak-anon-MB")
}

// fillBacklog puts n reports in the spool at path, as a relay that could
// not reach its hotline for a while leaves them: received over the last
// minutes, 500 a second, each sealed to rcpts.
func fillBacklog(b *testing.B, path string, n int, rcpts *report.Recipients) {
	b.Helper()
	sp, err := spool.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	start := time.Now().Add(-time.Minute - time.Duration(n/500)*time.Second)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 * runtime.NumCPU() {
		wg.Go(func() {
			for k := next.Add(1); k <= int64(n); k = next.Add(1) {
				id := uuid.NewString()
				env, err := report.Seal(ordinaryReport(id), rcpts)
				if err == nil {
					_, _, err = sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Received: start.Add(time.Duration(k/500) * time.Second), Body: env})
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// ordinaryReport is a report of ordinary size, for hotline h1 from site s1.
func ordinaryReport(id string) *report.Report {
	return &report.Report{Version: report.Version, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second),
		Locale: "en", Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website",
		Content: "video", Category: "csam", Description: strings.Repeat("a report of ordinary length ", 20)}
}

// intakeMetrics reads the intake's counts from its metrics, by name, or
// nil if it does not answer.
func intakeMetrics(addr string) map[string]float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && !strings.HasPrefix(name, "#") {
			m[name], _ = strconv.ParseFloat(v, 64)
		}
	}
	return m
}

// stored is the intake's count of reports stored, or -1 if it does not
// answer.
func stored(addr string) int {
	m := intakeMetrics(addr)
	if m == nil {
		return -1
	}
	return int(m["reportline_intake_reports_stored_total"])
}

// samplePeaks samples the resident anonymous memory of each process every
// 20 ms until the function it returns is called, which returns each one's
// peak in KiB.
func samplePeaks(procs ...*proc) (stop func() []int64) {
	peaks := make([]int64, len(procs))
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			for i, p := range procs {
				peaks[i] = max(peaks[i], procAnonKB(p))
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return sync.OnceValue(func() []int64 {
		close(done)
		<-sampled
		return peaks
	})
}

// procAnonKB is p's resident anonymous memory in KiB (RssAnon: its heap
// and stacks, not files it maps), or 0 once it has exited.
func procAnonKB(p *proc) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// storedReports counts the reports in inbox that have both their files.
func storedReports(b *testing.B, inbox string) int {
	b.Helper()
	names := map[string]int{}
	for _, e := range mustReadDir(b, inbox) {
		name := e.Name()
		if id, ok := strings.CutSuffix(name, ".json"); ok {
			names[id]++
		} else if id, ok := strings.CutSuffix(name, ".age"); ok {
			names[id]++
		}
	}
	n := 0
	for _, k := range names {
		if k == 2 {
			n++
		}
	}
	return n
}

// tail is the last lines of a process's log, for a failure's message.
func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// Command speed measures what the report button costs a partner page and
// how fast the report form is for a reporter, in headless Chromium,
// against the intake, the relay and the example partner page running as
// real processes on loopback, and compares each time with a baseline
// measured in the same run. It prints a table and writes it, with the
// method, to docs/speed.md. `make bench` runs it.
//
// It is a measurement: a missed target is reported, not a failure. It
// exits non-zero only when the measurement itself breaks.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/web/assets"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "build/bin", "the relay, hotline and partner-site binaries (`make build`)")
	flag.StringVar(&cfg.assets, "assets", "build/assets", "widget.wasm and wasm_exec.js, precompressed (`make build`)")
	flag.StringVar(&cfg.out, "out", "docs/speed.md", "the Markdown file to write; empty for none")
	flag.IntVar(&cfg.runs, "runs", 5, "runs of each kind, each in a fresh browser profile")
	flag.StringVar(&cfg.chromium, "chromium", envOr("CHROMIUM", "/usr/bin/chromium"), "the Chromium to run")
	flag.DurationVar(&cfg.timeout, "timeout", 4*time.Minute, "give up after this long")
	flag.BoolVar(&cfg.powOnly, "pow", false, "measure only the proof of work (row 7), print it, and write nothing")
	flag.Parse()
	if cfg.runs < 1 || cfg.runs > 50 {
		fmt.Fprintln(os.Stderr, "speed: error: -runs must be between 1 and 50")
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "speed: error: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	bin, assets, out, chromium string
	runs                       int
	timeout                    time.Duration
	powOnly                    bool
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(cfg config) error {
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	m, err := describeMachine(cfg.chromium)
	if err != nil {
		return err
	}
	loadBefore := loadAverage()
	progress("machine: %s; load average %.2f", m, loadBefore)

	type module struct {
		wasm []byte
		c    *assets.Compressed
		err  error
	}
	baselineDone := make(chan module, 1)
	go func() {
		w, err := buildBaselineModule(ctx, goCommand())
		if err != nil {
			baselineDone <- module{err: err}
			return
		}
		baselineDone <- module{wasm: w, c: assets.Compress(w, true)}
	}()

	state, err := os.MkdirTemp("", "reportline-speed-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)
	st, err := stack.Start(stack.Options{Bin: cfg.bin, Assets: cfg.assets, State: state})
	if err != nil {
		return fmt.Errorf("failed to start the stack (run `make build` first): %w", err)
	}
	defer st.Stop()
	progress("stack: partner page %s, relay %s", st.PartnerURL, st.RelayURL)

	sz, err := measureSizes(ctx, st.RelayURL, st.PartnerURL)
	if err != nil {
		return fmt.Errorf("failed to measure transfer sizes: %w", err)
	}
	bm := <-baselineDone
	if bm.err != nil {
		return bm.err
	}
	wasmExec, err := os.ReadFile(filepath.Join(cfg.assets, "wasm_exec.js"))
	if err != nil {
		return err
	}
	bs, err := startBaseline(bm.wasm, bm.c, wasmExec, sz.framePage)
	if err != nil {
		return err
	}
	defer bs.close()
	progress("baseline: %s (module %d B, %d B brotli)", bs.PageURL, len(bm.wasm), len(bm.c.Brotli))

	res := &results{sizes: sz, baselineRaw: len(bm.wasm), baselineBr: len(bm.c.Brotli)}
	scs := scenarios(st, bs)
	if cfg.powOnly {
		scs = []scenario{powScenario(st)}
	}
	for i := range cfg.runs {
		for _, sc := range scs {
			vs, err := sc.run(ctx, cfg.chromium)
			if err != nil {
				if ctx.Err() != nil {
					err = fmt.Errorf("still running after -timeout %s: %w", cfg.timeout, err)
				}
				return fmt.Errorf("run %d, %s: %w", i+1, sc.name, err)
			}
			sc.keep(res, vs)
			progress("run %d/%d: %s: %s", i+1, cfg.runs, sc.name, summary(vs))
		}
		// As many native solves as the widget's in this round, right
		// after them, so that both see the machine's load of the moment.
		ms, perKey, err := solveNatively(len(res.powBrowser) - len(res.powNative))
		if err != nil {
			return err
		}
		res.powNative = append(res.powNative, ms...)
		res.powNativeKey = append(res.powNativeKey, perKey...)
		progress("run %d/%d: proof of work natively: %.0f ms", i+1, cfg.runs, ms)
	}
	if cfg.powOnly {
		fmt.Print(res.powText())
		return nil
	}
	cmd := "go run ./e2e/speed"
	if args := os.Args[1:]; len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	rep := res.report(m, cmd, cfg.runs, time.Since(started))
	rep.Load = [2]float64{loadBefore, loadAverage()}
	fmt.Print(rep.text())
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		progress("wrote %s", cfg.out)
	}
	return nil
}

// scenario is a series of visits in one fresh browser profile.
type scenario struct {
	name  string
	plans []plan
	keep  func(*results, []visit)
}

func (sc scenario) run(ctx context.Context, chromium string) ([]visit, error) {
	b, err := startBrowser(ctx, chromium)
	if err != nil {
		return nil, err
	}
	defer b.close()
	var vs []visit
	for _, p := range sc.plans {
		v, err := b.do(p)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	if err := b.tap.err(); err != nil {
		return nil, err
	}
	return vs, nil
}

// settle is how long a warm visit waits on about:blank after the cold one.
const settle = 2 * time.Second

// scenarios are the kinds of run, in the order each round runs them.
func scenarios(st *stack.Stack, bs *baselineServer) []scenario {
	product := func(idle time.Duration, hover bool, mark string) plan {
		return plan{url: st.PartnerURL, idle: idle, hover: hover, visible: true, readyMark: mark, pow: mark != "", origin: st.RelayURL}
	}
	base := func(kind string, idle time.Duration, hover bool) plan {
		p := plan{url: bs.PageURL + "?frame=" + kind, idle: idle, hover: hover, origin: bs.FrameURL}
		if kind == "wasm" {
			p.readyMark = "baseline:ready"
		} else {
			p.visible = true
		}
		return p
	}
	const first, again = time.Second, 300 * time.Millisecond
	warm := func(p plan) plan { p.settle = settle; return p }
	return []scenario{
		{"report form, click, cold then warm", []plan{product(first, false, "reportline:ready"), warm(product(again, false, "reportline:ready"))},
			func(r *results, vs []visit) {
				r.product = append(r.product, vs...)
				r.coldClicks = append(r.coldClicks, vs[0])
				r.clickCold = append(r.clickCold, vs[0].visible)
				r.clickWarm = append(r.clickWarm, vs[1].visible)
				r.coldWarm = append(r.coldWarm, [2]visit{vs[0], vs[1]})
				r.readyCold = append(r.readyCold, vs[0].ready)
				r.readyWarm = append(r.readyWarm, vs[1].ready)
				r.notePoW(vs)
			}},
		{"report form, hover first, cold", []plan{product(first, true, "")},
			func(r *results, vs []visit) {
				r.product = append(r.product, vs...)
				r.hoverCold = append(r.hoverCold, vs[0].visible)
			}},
		{"baseline page, click, cold then warm", []plan{base("plain", first, false), warm(base("plain", again, false))},
			func(r *results, vs []visit) {
				r.basePage = append(r.basePage, vs...)
				r.baseColdClicks = append(r.baseColdClicks, vs[0])
				r.baseClickCold = append(r.baseClickCold, vs[0].visible)
				r.baseClickWarm = append(r.baseClickWarm, vs[1].visible)
			}},
		{"baseline page, hover first, cold", []plan{base("plain", first, true)},
			func(r *results, vs []visit) {
				r.basePage = append(r.basePage, vs...)
				r.baseHoverCold = append(r.baseHoverCold, vs[0].visible)
			}},
		{"baseline module, cold then warm", []plan{base("wasm", first, false), warm(base("wasm", again, false))},
			func(r *results, vs []visit) {
				r.baseColdWarm = append(r.baseColdWarm, [2]visit{vs[0], vs[1]})
				r.baseReadyCold = append(r.baseReadyCold, vs[0].ready)
				r.baseReadyWarm = append(r.baseReadyWarm, vs[1].ready)
				r.baseModule = append(r.baseModule, vs...)
			}},
	}
}

// powScenario opens the report form twice, each time in a fresh profile,
// and measures the widget's first proof of work, and nothing else.
func powScenario(st *stack.Stack) scenario {
	p := plan{url: st.PartnerURL, idle: time.Second, readyMark: "reportline:ready", pow: true, origin: st.RelayURL}
	return scenario{"proof of work", []plan{p, p}, func(r *results, vs []visit) {
		r.notePoW(vs)
	}}
}

// summary is one progress line's worth of a scenario's visits.
func summary(vs []visit) string {
	var parts []string
	for _, v := range vs {
		var s []string
		if v.visible != 0 {
			s = append(s, fmt.Sprintf("visible %.0f ms (fcp %.0f)", v.visible, v.fcp))
		}
		if v.ready != 0 {
			s = append(s, fmt.Sprintf("ready %.0f ms", v.ready))
		}
		if v.pow != 0 {
			s = append(s, fmt.Sprintf("proof of work %.0f ms", v.pow))
		}
		parts = append(parts, strings.Join(s, ", "))
	}
	return strings.Join(parts, "; ")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "speed: "+format+"\n", args...)
}

// goCommand is the go command that runs this program, for building the
// baseline module with the same toolchain.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"
)

// results are every run's numbers.
type results struct {
	sizes                   sizes
	baselineRaw, baselineBr int

	product    []visit // every visit of the partner page
	basePage   []visit // every visit of the baseline page with the plain frame
	baseModule []visit

	coldClicks, baseColdClicks []visit    // the cold visits that clicked without hovering
	coldWarm, baseColdWarm     [][2]visit // the cold and warm visits that waited for the module

	clickCold, hoverCold, clickWarm, readyCold, readyWarm                     []float64
	powBrowser, powNative                                                     []float64 // solving one proof of work at the default difficulty
	powBrowserKey, powNativeKey                                               []float64 // the same, per key derived
	baseClickCold, baseHoverCold, baseClickWarm, baseReadyCold, baseReadyWarm []float64
}

// Targets. A KB is 1,000 bytes, as browsers' developer tools count.
const (
	targetEmbedBr   = 2_000
	targetVisible   = 150.0
	targetReadyCold = 1000.0
	targetReadyWarm = 300.0
	targetModuleBr  = 900_000
	// targetPoWRatio is how many times longer than native Go a browser
	// may take to solve a proof of work: the advantage a scripted sender
	// has over a reporter.
	targetPoWRatio = 3.0
)

// report is what the command prints and writes.
type report struct {
	Date    string
	Machine machine
	Command string
	Runs    int
	Took    string
	Load    [2]float64 // the one-minute load average before and after
	Rows    []row
	Notes   []string
	Details [][]string
}

// row is one line of the table.
type row struct{ N, What, Median, Range, Baseline, Ratio, Target, Met string }

func (r *results) report(m machine, cmd string, runs int, took time.Duration) report {
	rep := report{
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Machine: m, Command: cmd, Runs: runs,
		Took: took.Round(time.Second).String(),
	}
	s := r.sizes
	rep.Rows = append(rep.Rows,
		sizeRow("1", "embed.js, brotli", s.embedBr, 0, "≤ 2 KB", s.embedBr <= targetEmbedBr),
		sizeRow("1", "embed.js, gzip", s.embedGz, 0, "", false),
		r.requestsRow(),
		timeRow("3", "click → form visible and typeable, cold, click", r.clickCold, r.baseClickCold, "≤ 150 ms", targetVisible),
		timeRow("3", "click → form visible and typeable, cold, hover first", r.hoverCold, r.baseHoverCold, "≤ 150 ms", targetVisible),
		timeRow("3", "click → form visible and typeable, warm, click", r.clickWarm, r.baseClickWarm, "", 0),
		timeRow("4", "frame start → module ready, cold", r.readyCold, r.baseReadyCold, "≤ 1 s", targetReadyCold),
		timeRow("4", "frame start → module ready, warm", r.readyWarm, r.baseReadyWarm, "≤ 300 ms", targetReadyWarm),
		sizeRow("5", "module, brotli", s.moduleBr, r.baselineBr, "≤ 900 KB", s.moduleBr <= targetModuleBr),
		sizeRow("5", "module, raw", s.moduleRaw, r.baselineRaw, "", false),
		r.shiftRow(),
		r.powRow(),
		r.powKeyRow(),
	)
	rep.Notes = r.notes()
	rep.Details = r.details()
	return rep
}

func sizeRow(n, what string, b, base int, target string, met bool) row {
	out := row{N: n, What: what, Median: kb(b), Range: "—", Baseline: "—", Ratio: "—", Target: "—", Met: "—"}
	if base > 0 {
		out.Baseline, out.Ratio = kb(base), fmt.Sprintf("%.2f", float64(b)/float64(base))
	}
	if target != "" {
		out.Target, out.Met = target, yesNo(met)
	}
	return out
}

func timeRow(n, what string, v, base []float64, target string, limit float64) row {
	med, bmed := median(v), median(base)
	out := row{
		N: n, What: what, Median: fmt.Sprintf("%.0f ms", med),
		Range:    fmt.Sprintf("%.0f–%.0f ms", slices.Min(v), slices.Max(v)),
		Baseline: fmt.Sprintf("%.0f ms", bmed), Ratio: fmt.Sprintf("%.2f", med/bmed), Target: "—", Met: "—",
	}
	if target != "" {
		out.Target, out.Met = target, yesNo(med <= limit)
	}
	return out
}

// requestsRow is item 2: what the partner page asks of the relay before
// anyone shows intent, in every visit of the partner page.
func (r *results) requestsRow() row {
	var counts []float64
	ok := true
	for _, v := range r.product {
		counts = append(counts, float64(len(v.preIntent)))
		if !slices.Equal(v.preIntent, []string{"/embed.js"}) || v.framesEarly > 0 {
			ok = false
		}
	}
	med := fmt.Sprintf("%.0f", median(counts))
	if ok {
		med += " (embed.js)"
	}
	return row{
		N: "2", What: "requests to the relay before intent", Median: med,
		Range:    fmt.Sprintf("%.0f–%.0f", slices.Min(counts), slices.Max(counts)),
		Baseline: "—", Ratio: "—", Target: "only embed.js", Met: yesNo(ok),
	}
}

// shiftRow is item 6, over every visit of the partner page.
func (r *results) shiftRow() row {
	var v []float64
	for _, p := range r.product {
		v = append(v, p.shift)
	}
	return row{
		N: "6", What: "layout shift on the partner page, load → dialog open", Median: fmt.Sprintf("%.4f", median(v)),
		Range:    fmt.Sprintf("%.4f–%.4f", slices.Min(v), slices.Max(v)),
		Baseline: "—", Ratio: "—", Target: "0", Met: yesNo(slices.Max(v) == 0),
	}
}

// powRow is item 7: solving one proof of work at the default difficulty
// in the widget, against native Go on the same machine.
func (r *results) powRow() row {
	out := timeRow("7", "proof of work at the default difficulty, solved by the widget (baseline: natively in Go)", r.powBrowser, r.powNative, "", 0)
	out.Target = fmt.Sprintf("ratio ≤ %.0f", targetPoWRatio)
	out.Met = yesNo(median(r.powBrowser)/median(r.powNative) <= targetPoWRatio)
	return out
}

// powText is row 7 alone, with every solve, for -pow.
func (r *results) powText() string {
	row, key := r.powRow(), r.powKeyRow()
	return fmt.Sprintf("\n%s: median %s (%s), natively %s, ratio %s, target %s: %s\n"+
		"per key: median %s (%s), natively %s, ratio %s\nwidget: %.0f ms\nnative: %.0f ms\nwidget per key: %.2f ms\nnative per key: %.2f ms\n",
		row.What, row.Median, row.Range, row.Baseline, row.Ratio, row.Target, row.Met,
		key.Median, key.Range, key.Baseline, key.Ratio, r.powBrowser, r.powNative, r.powBrowserKey, r.powNativeKey)
}

// powKeyRow is row 7 per key derived: the same comparison without the
// luck of each challenge's secret counter.
func (r *results) powKeyRow() row {
	med, bmed := median(r.powBrowserKey), median(r.powNativeKey)
	return row{
		N: "7", What: "the same, per key derived", Median: fmt.Sprintf("%.2f ms", med),
		Range:    fmt.Sprintf("%.2f–%.2f ms", slices.Min(r.powBrowserKey), slices.Max(r.powBrowserKey)),
		Baseline: fmt.Sprintf("%.2f ms", bmed), Ratio: fmt.Sprintf("%.2f", med/bmed), Target: "—", Met: "—",
	}
}

// notes are the checks behind the table.
func (r *results) notes() []string {
	var n []string
	visible, atFCP := 0, 0
	var skews []float64
	early := map[string]int{}
	framesEarly, shifts, afterInput := 0, 0, 0
	for _, v := range r.product {
		if v.visible != 0 {
			visible++
			skews = append(skews, v.skew)
			if v.fieldAtFCP {
				atFCP++
			}
		}
		for _, u := range v.preIntent {
			if u != "/embed.js" {
				early[u]++
			}
		}
		framesEarly += v.framesEarly
		shifts += v.shifts
		afterInput += v.shiftsAfterInput
	}
	n = append(n, fmt.Sprintf("#locations-0 existed and was enabled in the frame's first contentful paint in %d of %d visits.", atFCP, visible))
	if len(early) > 0 {
		var urls []string
		for u, c := range early {
			urls = append(urls, fmt.Sprintf("%s (%d×)", u, c))
		}
		slices.Sort(urls)
		n = append(n, "Requests to the relay before intent besides embed.js: "+strings.Join(urls, ", ")+".")
	}
	if framesEarly > 0 {
		n = append(n, fmt.Sprintf("A report frame appeared before intent %d times.", framesEarly))
	}
	n = append(n, fmt.Sprintf("Layout-shift entries on the partner page: %d in %d visits (%d of them right after input).",
		shifts, len(r.product), afterInput))
	for _, k := range []struct {
		name string
		vs   [][2]visit
	}{{"report form", r.coldWarm}, {"baseline", r.baseColdWarm}} {
		var cached [2]int
		for _, p := range k.vs {
			for i, v := range p {
				if v.moduleCached {
					cached[i]++
				}
			}
		}
		n = append(n, fmt.Sprintf("Module from the browser's cache, %s: %d of %d cold visits, %d of %d warm ones.",
			k.name, cached[0], len(k.vs), cached[1], len(k.vs)))
	}
	if len(skews) > 0 {
		n = append(n, fmt.Sprintf("Clock offset of the frame's process against the page's, corrected for: median %.2f ms, %.2f to %.2f ms.",
			median(skews), slices.Min(skews), slices.Max(skews)))
	}
	n = append(n, "Cold click, report form: "+breakdown(r.coldClicks)+".")
	n = append(n, "Cold click, baseline page: "+breakdown(r.baseColdClicks)+".")
	for _, k := range []struct {
		name string
		vs   [][2]visit
	}{{"report form", r.coldWarm}, {"baseline", r.baseColdWarm}} {
		n = append(n, fmt.Sprintf("Module, %s: cold, %s; warm, %s.", k.name, moduleTimes(k.vs, 0), moduleTimes(k.vs, 1)))
	}
	var pauses, delays []float64
	for _, v := range slices.Concat(r.product, r.basePage, r.baseModule) {
		pauses = append(pauses, v.pause)
		if v.visible != 0 {
			delays = append(delays, v.clickDelay)
		}
	}
	n = append(n, fmt.Sprintf("Each frame waited a median %.1f ms (at most %.1f ms) at its start while the benchmark installed its probe; "+
		"the page's click listener ran a median %.1f ms after the click's timestamp.", median(pauses), slices.Max(pauses), median(delays)))
	n = append(n, fmt.Sprintf("The frame's page is %s before compression (the relay sends it compressed to browsers; the baseline page has the same size, uncompressed).", kb(r.sizes.framePage)))
	return n
}

// details are every run's times, for a look at the spread.
func (r *results) details() [][]string {
	out := [][]string{{"run", "click cold", "hover cold", "click warm", "ready cold", "ready warm",
		"base click cold", "base hover cold", "base click warm", "base ready cold", "base ready warm"}}
	for i := range r.clickCold {
		line := []string{fmt.Sprint(i + 1)}
		for _, s := range [][]float64{r.clickCold, r.hoverCold, r.clickWarm, r.readyCold, r.readyWarm,
			r.baseClickCold, r.baseHoverCold, r.baseClickWarm, r.baseReadyCold, r.baseReadyWarm} {
			line = append(line, fmt.Sprintf("%.0f", s[i]))
		}
		out = append(out, line)
	}
	return out
}

// breakdown says where a cold click's time goes, in medians from the click.
func breakdown(vs []visit) string {
	var start, resp, parsed, fcp, field []float64
	for _, v := range vs {
		start = append(start, v.frameStart)
		resp = append(resp, v.frameResponse)
		parsed = append(parsed, v.frameParsed)
		fcp = append(fcp, v.fcp)
		field = append(field, v.visible)
	}
	return fmt.Sprintf("the frame started navigating at %+.0f ms, had its page at %.0f ms, parsed it at %.0f ms, "+
		"painted first at %.0f ms and had the field at %.0f ms (medians, from the click)",
		median(start), median(resp), median(parsed), median(fcp), median(field))
}

// moduleTimes says where the time to ready goes, in medians from the
// frame's navigation start, for the cold (0) or warm (1) visits.
func moduleTimes(vs [][2]visit, i int) string {
	var start, end, ready []float64
	for _, v := range vs {
		start = append(start, v[i].moduleStart)
		end = append(end, v[i].moduleEnd)
		ready = append(ready, v[i].ready)
	}
	return fmt.Sprintf("requested at %.0f ms, received at %.0f ms, ready at %.0f ms",
		median(start), median(end), median(ready))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// kb writes a byte count with its size in KB or MB (1,000 bytes, 1,000 KB).
func kb(b int) string {
	if b >= 1_000_000 {
		return fmt.Sprintf("%s B (%.2f MB)", thousands(b), float64(b)/1e6)
	}
	return fmt.Sprintf("%s B (%.1f KB)", thousands(b), float64(b)/1000)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// text is the report for a terminal.
func (rep report) text() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n%s · %s · %d runs of each kind · %s · load average %.2f before, %.2f after\n\n",
		rep.Date, rep.Machine, rep.Runs, rep.Took, rep.Load[0], rep.Load[1])
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "#\tmeasure\tmedian\tmin–max\tbaseline\tratio\ttarget\tmet")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.N, r.What, r.Median, r.Range, r.Baseline, r.Ratio, r.Target, strings.Trim(r.Met, "*"))
	}
	w.Flush()
	b.WriteString("\n")
	for _, n := range rep.Notes {
		b.WriteString("- " + n + "\n")
	}
	b.WriteString("\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, line := range rep.Details {
		fmt.Fprintln(w, strings.Join(line, "\t")+"\t")
	}
	w.Flush()
	return b.String()
}

//go:embed speed.md.tmpl
var markdownTmpl string

// markdown is the report as docs/speed.md.
func (rep report) markdown() string {
	t := template.Must(template.New("speed.md").Funcs(template.FuncMap{
		"cells": func(s []string) string { return "| " + strings.Join(s, " | ") + " |" },
		"rule":  func(n int) string { return "|" + strings.Repeat("---|", n) },
	}).Parse(markdownTmpl))
	var b bytes.Buffer
	if err := t.Execute(&b, rep); err != nil {
		panic(err) // the template is part of the program
	}
	return b.String()
}

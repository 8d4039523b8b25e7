package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/hotline/intake"
)

// TestUrgentReportOvertakesQueue: while the hotline's intake is down,
// three reports wait at the relay, then a reporter sends an urgent one
// through the form in the browser. Every delivery fails and is put off
// for half an hour; the relay is stopped, the intake comes back, and the
// operator asks for every report to be delivered again now, the urgent
// one last, so it is the one due latest. The relay, started again, still
// delivers the urgent report first: the intake's log receives it before
// the older ones, and files it in its urgent folder. So with either
// store: the bbolt spool, and JetStream on three NATS servers.
func TestUrgentReportOvertakesQueue(t *testing.T) {
	for _, store := range []struct {
		name  string
		nodes int
	}{{"bbolt", 0}, {"jetstream", 3}} {
		t.Run(store.name, func(t *testing.T) { urgentOvertakesQueue(t, store.nodes) })
	}
}

func urgentOvertakesQueue(t *testing.T, natsNodes int) {
	s := startStack(t, func(o *stack.Options) {
		o.RetryMin = "30m" // no retry of its own during the test
		o.Concurrency = 1  // the intake receives the reports one by one, in the relay's order
		o.NATSNodes = natsNodes
	})
	if err := s.StopIntake(); err != nil {
		t.Fatal(err)
	}
	identity, err := os.ReadFile(s.HotlineIdentity)
	if err != nil {
		t.Fatal(err)
	}
	recipient := regexp.MustCompile(`age1pq1[0-9a-z]+`).FindString(string(identity))
	var queued []string
	for range 3 {
		queued = append(queued, postSealed(t, s, []string{recipient}, "demo-site"))
	}

	// The urgent report, through the form.
	b := newBrowser(t)
	f := b.openReportForm(s)
	f.waitReady()
	in := newInput(t)
	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	for _, a := range [][2]string{{"seen_on", "messaging_app"}, {"content", "image"}, {"category", "sextortion"}} {
		f.setChoice(a[0], a[1])
	}
	f.click("input[name=urgent][value=yes]")
	f.click("#rl-submit")
	f.waitReceipt()
	if marked := b.reportPriorities(); !slices.Equal(marked, []string{"urgent"}) {
		t.Fatalf("the form posted the report with Report-Priority %q, want one post marked urgent", marked)
	}

	// Each report's first delivery fails; wait for the four.
	intakeLog := filepath.Join(filepath.Dir(s.RelayLogPath), "intake.log")
	failed := waitFor(t, deliveryLimit, "a failed delivery of each report", func() ([]string, bool) {
		var ids []string
		for _, line := range logLines(t, s.RelayLogPath) {
			var l struct{ Msg, Report string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "delivery failed, will retry" && !slices.Contains(ids, l.Report) {
				ids = append(ids, l.Report)
			}
		}
		return ids, len(ids) == 4
	})
	var urgent string
	for _, id := range failed {
		if !slices.Contains(queued, id) {
			urgent = id
		}
	}
	if urgent == "" {
		t.Fatalf("the relay tried %v, none of them the form's report (queued: %v)", failed, queued)
	}
	if err := s.StopRelay(false); err != nil {
		t.Fatal(err)
	}
	relay := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(filepath.Join(build(t).bin, "relay"), append(args, "-config", s.RelayConfig)...).CombinedOutput()
		if err != nil {
			t.Fatalf("relay %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	ls := relay("spool", "ls")
	for _, line := range strings.Split(ls, "\n") {
		for _, id := range append(slices.Clone(queued), urgent) {
			if strings.HasPrefix(line, id) && strings.Contains(line, "(urgent)") != (id == urgent) {
				t.Errorf("relay spool ls shows %s as %q:\n%s", id, line, ls)
			}
		}
	}
	for _, id := range append(slices.Clone(queued), urgent) {
		relay("spool", "retry", id)
	}

	if err := s.StartIntake(); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRelay(); err != nil {
		t.Fatal(err)
	}
	received := waitFor(t, deliveryLimit, "all four reports at the intake", func() ([]string, bool) {
		var ids []string
		for _, line := range logLines(t, intakeLog) {
			var l struct{ Msg, Report string }
			if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "report received" && !strings.HasPrefix(l.Msg, "URGENT report received") {
				continue
			}
			if !slices.Contains(ids, l.Report) {
				ids = append(ids, l.Report)
			}
		}
		return ids, len(ids) == 4
	})
	if received[0] != urgent {
		t.Errorf("the intake received %v, want the urgent report %s first, then %v", received, urgent, queued)
	}
	if path := waitUrgent(t, s); filepath.Base(path) != urgent+".json" {
		t.Errorf("the urgent folder holds %s, want %s.json", path, urgent)
	}
	for _, id := range queued {
		if _, err := os.Stat(filepath.Join(s.Inbox, id+".json")); err != nil {
			t.Errorf("a queued report is not in the inbox: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Inbox, intake.UrgentDir, urgent+".age")); err != nil {
		t.Errorf("the urgent report's envelope is not in the urgent folder: %v", err)
	}
	resp, err := http.Get(strings.TrimSuffix(s.Intake, "/v1/deliveries") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^reportline_intake_urgent_reports_total 1$`).Match(metrics) {
		t.Errorf("the intake's metrics do not count one urgent report:\n%s", metrics)
	}
}

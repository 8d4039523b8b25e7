package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/report"
)

// choice is an option of a select: its value and the label a person sees.
type choice struct{ value, label string }

// input is what the test types and chooses in the form.
type input struct {
	locations                 []string // one per row; the second row is added with the button
	seenOn, content, category choice
	description               string
}

// newInput makes a report with strings unique to this run, so that a
// search for them in the spool and the logs cannot find an older run's.
func newInput(t *testing.T) input {
	t.Helper()
	var buf [4]byte
	rand.Read(buf[:])
	tok := hex.EncodeToString(buf[:])
	msg, err := report.LoadCatalog("en")
	if err != nil {
		t.Fatal(err)
	}
	opt := func(field, value string) choice {
		return choice{value, msg.T("option." + field + "." + value)}
	}
	return input{
		locations: []string{
			"https://e2e-" + tok + ".example/gallery/4471?page=2&sort=new",
			"http://files-" + tok + ".example/share/7731#top",
		},
		seenOn:      opt("seen_on", "file_sharing"),
		content:     opt("content", "video"),
		category:    opt("category", "grooming"),
		description: "Seen in a group called grp-" + tok + " on Tuesday.\nThe uploader also posts as café-" + tok + ".",
	}
}

// secrets are the strings that must never reach the relay's disk or log.
func (in input) secrets() []string {
	s := slices.Clone(in.locations)
	s = append(s, in.description)
	s = append(s, strings.Split(in.description, "\n")...)
	for _, l := range in.locations {
		u, _ := url.Parse(l)
		s = append(s, u.Host, u.Path)
	}
	// The distinctive choices: "grooming" and "file_sharing" appear in no
	// relay record or log line unless the report leaked.
	return append(s, in.seenOn.value, in.category.value, in.seenOn.label, in.category.label)
}

// submitted is what the browser showed and what the relay held then.
type submitted struct {
	reference string
	spool     []byte    // a copy of the spool file taken as the receipt appeared
	start     time.Time // just before the click on Send
	receipt   time.Time // when the receipt was seen
	frame     *frame    // the report frame, showing the receipt
}

// submitReport files the report through the partner page as a person does,
// and returns the reference the receipt shows.
func (b *browser) submitReport(s *stack.Stack, in input) submitted {
	t := b.t
	t.Helper()
	f := b.openReportForm(s)
	f.waitReady()
	b.screenshot("1-dialog")
	// Opening the dialog moves the focus to the form's title, where a
	// keyboard or screen reader user starts.
	f.waitFocus("rl-title")

	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	// The module adds a row and moves the focus into it.
	f.click("#locations-add")
	f.typeText("locations-1", in.locations[1])
	f.choose("seen_on", in.seenOn)
	f.choose("content", in.content)
	f.choose("category", in.category)
	f.click("#description")
	f.typeText("description", in.description)

	for id, want := range map[string]string{
		"locations-0": in.locations[0], "locations-1": in.locations[1],
		"seen_on": in.seenOn.value, "content": in.content.value, "category": in.category.value,
		"description": in.description,
	} {
		if got := f.value(id); got != want {
			t.Fatalf("after typing, #%s holds %q, want %q", id, got, want)
		}
	}
	b.screenshot("2-filled")

	start := time.Now()
	f.click("#rl-submit")
	var sub submitted
	f.waitReceipt()
	sub.receipt = time.Now()
	f.step("read the receipt", 30*time.Second, func(ctx context.Context) error {
		var err error
		// The copy is taken before anything else, to catch the spool
		// while it still holds the report, if the forwarder is slower.
		// (On JetStream there is no spool file.)
		if s.NATSURLs == nil {
			if sub.spool, err = os.ReadFile(s.Spool); err != nil {
				return err
			}
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("rl-receipt"))); err != nil {
			return err
		}
		sub.reference, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("rl-reference")))
		return err
	})
	sub.start, sub.frame = start, f
	b.screenshot("3-receipt")
	if sub.reference == "" {
		t.Fatal("the receipt shows no reference")
	}
	// The module logs what goes wrong to the console (a panic in an event
	// handler too, which it recovers from): there must be nothing.
	if errs := b.errorsInFrame(); len(errs) > 0 {
		t.Errorf("the report frame logged errors:\n%s", strings.Join(errs, "\n"))
	}
	return sub
}

// choose picks the option of the select with the id as a person does with
// the keyboard: a click on the field's label moves the focus to the select
// (a click on the select itself would open its popup), and typing the
// first word of an option's label selects it (the select's type-ahead).
// Only the first word: a space typed into a select after a pause opens its
// popup.
func (f *frame) choose(id string, c choice) {
	f.b.t.Helper()
	word, _, _ := strings.Cut(c.label, " ")
	word = strings.TrimRight(word, ",;:")
	f.click(fmt.Sprintf("label[for=%q]", id))
	f.typeText(id, word)
	if got := f.value(id); got != c.value {
		f.b.t.Fatalf("after typing %q into the select #%s, it holds %q, want %q (%s)", word, id, got, c.value, c.label)
	}
}

func TestReportEndToEnd(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	in := newInput(t)
	sub := b.submitReport(s, in)
	t.Logf("receipt %s shown %s after the click on Send", sub.reference, sub.receipt.Sub(sub.start).Round(time.Millisecond))

	id := waitInbox(t, s)
	t.Logf("report %s found in the inbox %s after the click on Send", id, time.Since(sub.start).Round(time.Millisecond))
	checkReport(t, s, id, in, sub)
	checkNoPlaintext(t, "the spool copy taken at the receipt", sub.spool, in)
	checkRelayKeptNothing(t, s, in)
	checkLogAddrs(t, s, false)
}

func TestRelayRestartDeliversOnce(t *testing.T) {
	s := startStack(t)
	if err := s.StopIntake(); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	in := newInput(t)
	sub := b.submitReport(s, in)

	// Accepted (202) but not delivered: the relay crashes now.
	if err := s.StopRelay(true); err != nil {
		t.Fatal(err)
	}
	if n := inboxFiles(t, s); len(n) != 0 {
		t.Fatalf("with the intake down, the inbox holds %v", n)
	}
	restart := time.Now()
	if err := s.StartIntake(); err != nil {
		t.Fatalf("failed to restart the intake: %v", err)
	}
	if err := s.StartRelay(); err != nil {
		t.Fatalf("failed to restart the relay: %v", err)
	}
	id := waitInbox(t, s)
	t.Logf("report %s delivered %s after the restart", id, time.Since(restart).Round(time.Millisecond))

	// The relay logs "report delivered" once it has removed the report
	// from its spool: after that line no attempt can start. A second
	// delivery would add nothing to the inbox but a second "report
	// received" line; there must be neither.
	waitLogLine(t, s.RelayLogPath, "report delivered", id)
	if got, want := inboxFiles(t, s), []string{id + ".age", id + ".json"}; !slices.Equal(got, want) {
		t.Fatalf("the inbox holds %v, want %v", got, want)
	}
	received := 0
	for _, line := range logLines(t, filepath.Join(filepath.Dir(s.RelayLogPath), "intake.log")) {
		if strings.Contains(line, "report received") && strings.Contains(line, id) {
			received++
		}
	}
	if received != 1 {
		t.Errorf("the intake log has %d \"report received\" lines for %s, want 1", received, id)
	}
	delivered := 0
	for _, line := range logLines(t, s.RelayLogPath) {
		if strings.Contains(line, "report delivered") && strings.Contains(line, id) {
			delivered++
		}
	}
	if delivered != 1 {
		t.Errorf("the relay log has %d \"report delivered\" lines for %s, want 1", delivered, id)
	}
	age := checkReport(t, s, id, in, sub)
	// The copy taken at the receipt holds the envelope as sealed in the
	// browser: the relay had stored it, and it held no plaintext then.
	if !bytes.Contains(sub.spool, age) {
		t.Error("the spool copy taken at the receipt does not hold the envelope the intake received")
	}
	checkNoPlaintext(t, "the spool copy taken at the receipt", sub.spool, in)
	checkRelayKeptNothing(t, s, in)
	checkLogAddrs(t, s, true)
}

// inboxFiles lists the inbox, sorted; a missing inbox is empty.
func inboxFiles(t *testing.T, s *stack.Stack) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Inbox)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// deliveryLimit is how long a test waits for a report, or a relay's line
// about it, to reach the intake: seconds on an idle machine, and more on
// a loaded one, where the relay's first attempt may also miss an intake
// that is still starting and wait for its retry.
const deliveryLimit = 2 * time.Minute

// waitInbox waits until the inbox holds a report's .age and .json, and
// returns its id. It fails if it ever holds more than one report.
func waitInbox(t *testing.T, s *stack.Stack) string {
	t.Helper()
	d := deliveryLimit
	deadline := time.Now().Add(d)
	for {
		var jsons []string
		for _, name := range inboxFiles(t, s) {
			if id, ok := strings.CutSuffix(name, ".json"); ok {
				jsons = append(jsons, id)
			}
		}
		switch {
		case len(jsons) > 1:
			t.Fatalf("the inbox holds %d reports: %v", len(jsons), jsons)
		case len(jsons) == 1:
			return jsons[0]
		case time.Now().After(deadline):
			t.Fatalf("no report reached the inbox within %s (inbox: %v)", d, inboxFiles(t, s))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkReport checks that the inbox's <id>.json holds what was typed, and
// that <id>.age opens with the standard age tool to the same report. It
// returns the envelope.
func checkReport(t *testing.T, s *stack.Stack, id string, in input, sub submitted) []byte {
	t.Helper()
	if got, want := inboxFiles(t, s), []string{id + ".age", id + ".json"}; !slices.Equal(got, want) {
		t.Fatalf("the inbox holds %v, want %v", got, want)
	}
	raw, err := os.ReadFile(filepath.Join(s.Inbox, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var o intake.Opened
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("%s.json: %v", id, err)
	}
	if o.ID != id || o.Reference != report.Reference(id) || o.Site != "demo-site" || len(o.Problems) > 0 {
		t.Errorf("%s.json: id %q, reference %q, site %q, problems %q; want %q, %q, %q, none",
			id, o.ID, o.Reference, o.Site, o.Problems, id, report.Reference(id), "demo-site")
	}
	if sub.reference != report.Reference(id) {
		t.Errorf("the receipt shows %q, but report %s has reference %q", sub.reference, id, report.Reference(id))
	}
	r := o.Report
	if r == nil {
		t.Fatalf("%s.json holds no opened report:\n%s", id, raw)
	}
	if earliest := sub.start.UTC().Truncate(time.Second); r.Created.Before(earliest) || r.Created.After(time.Now()) {
		t.Errorf("report created %s, not between %s and now", r.Created, earliest)
	}
	want := &report.Report{
		Version: report.Version, Minor: report.Minor, ID: id, Hotline: "demo-hotline", Site: "demo-site",
		Created: r.Created, Locale: "en",
		Locations: []report.Location{
			{Kind: "url", Value: in.locations[0]},
			{Kind: "url", Value: in.locations[1]},
		},
		SeenOn: in.seenOn.value, Content: in.content.value, Category: in.category.value,
		Description: in.description,
	}
	if !reflect.DeepEqual(r, want) {
		got, _ := json.MarshalIndent(r, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("the report in %s.json is\n%s\nwant\n%s", id, got, exp)
	}

	agePath := filepath.Join(s.Inbox, id+".age")
	envelope, err := os.ReadFile(agePath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "age", "-d", "-i", s.HotlineIdentity, agePath)
	cmd.Dir = build(t).root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	plain, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool age -d -i %s %s: %v\n%s", s.HotlineIdentity, agePath, err, stderr.Bytes())
	}
	fromAge, err := report.Parse(plain)
	if err != nil {
		t.Fatalf("what age decrypted is not a report: %v", err)
	}
	if !reflect.DeepEqual(fromAge, r) {
		got, _ := json.MarshalIndent(fromAge, "", "  ")
		t.Errorf("age -d opens %s.age to\n%s\nwhich differs from %s.json's report", id, got, id)
	}
	return envelope
}

// checkNoPlaintext fails if b holds any of the report's strings.
func checkNoPlaintext(t *testing.T, what string, b []byte, in input) {
	t.Helper()
	if len(b) == 0 {
		t.Errorf("%s is empty", what)
	}
	for _, secret := range in.secrets() {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the plaintext %q", what, secret)
		}
	}
}

// checkRelayKeptNothing checks the relay's spool file and log now.
func checkRelayKeptNothing(t *testing.T, s *stack.Stack, in input) {
	t.Helper()
	spool, err := os.ReadFile(s.Spool)
	if err != nil {
		t.Fatal(err)
	}
	checkNoPlaintext(t, "the spool file", spool, in)
	log, err := os.ReadFile(s.RelayLogPath)
	if err != nil {
		t.Fatal(err)
	}
	checkNoPlaintext(t, "the relay log", log, in)
}

// checkLogAddrs checks that the relay logged no client address. The
// browser connects from 127.0.0.1, which is also the address the relay
// listens on and names in its "listening" line, so no other line may hold
// 127.0.0.1 — except, if intakeDown, the intake's own address in the
// reasons of failed deliveries.
func checkLogAddrs(t *testing.T, s *stack.Stack, intakeDown bool) {
	t.Helper()
	u, err := url.Parse(s.Intake)
	if err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, s.RelayLogPath)
	if len(lines) == 0 {
		t.Fatal("the relay log is empty")
	}
	for _, line := range lines {
		if strings.Contains(line, "listening") { // "relay listening", or "listening" with the listener's name
			continue
		}
		rest := line
		if intakeDown {
			rest = strings.ReplaceAll(rest, u.Host, "")
		}
		for _, addr := range []string{"127.0.0.1", "::1", "localhost"} {
			if strings.Contains(rest, addr) {
				t.Errorf("the relay logged an address (%s): %s", addr, line)
			}
		}
	}
}

// waitLogLine waits until a line of the log at path holds every one of
// words.
func waitLogLine(t *testing.T, path string, words ...string) {
	t.Helper()
	d := deliveryLimit
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		for _, line := range logLines(t, path) {
			if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(line, w) }) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line of %s holds %q within %s:%s", path, words, d, joinLines(logLines(t, path)))
		}
	}
}

func logLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

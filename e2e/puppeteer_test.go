package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/report"
)

// node returns Node's path and the script at path (from the repository's
// root), after checking that npm installed pkg. Without node_modules the
// test is skipped with what to do, except in CI (CI set), which runs
// `npm ci` and where a test that did not run must not pass.
func node(t *testing.T, pkg, path string) (nodePath, script string) {
	t.Helper()
	root := build(t).root
	installed := filepath.Join(root, "node_modules", pkg, "package.json")
	if _, err := os.Stat(installed); err != nil {
		msg := fmt.Sprintf("this test needs %s from npm: run `npm ci` in the repository's root (%v)", pkg, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	nodePath, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("this test needs Node (Debian's nodejs) on PATH: %v", err)
	}
	script = filepath.Join(root, path)
	// Read here, so that go test's cache of a pass is dropped when the
	// script changes: the build's list of sources leaves out testdata.
	if _, err := os.ReadFile(script); err != nil {
		t.Fatal(err)
	}
	return nodePath, script
}

// runNode runs a Node script with stdin and returns its stdout.
func runNode(t *testing.T, nodePath, script string, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodePath, append([]string{script}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", filepath.Base(script), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestPuppeteerReport files a report with Puppeteer, a browser driver
// that is not the one the other tests use, through e2e/testdata/
// puppeteer.mjs: written as a stranger would, with the visible labels and
// roles only (the button's name, a click on a label, the keyboard, an
// option picked by its text with select(), Send), and no wait for the
// module. It does so twice: as served, and with the module arriving only
// after the first address is typed, as on a slow connection. Each report
// goes through a real relay to a real intake, arrives once with what was
// typed, opens with age and with age-encryption (an age implementation
// that is not ours) to the same report, and the relay kept and logged no
// plaintext and no address.
func TestPuppeteerReport(t *testing.T) {
	for _, c := range []struct {
		name       string
		lateModule bool
	}{
		{"as-served", false},
		{"module-late", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			puppeteerReport(t, c.lateModule)
		})
	}
}

// puppeteer runs e2e/testdata/puppeteer.mjs on the stack's partner page
// with the flow's job (what the script's comment lists), as served or
// with the module late, and returns the receipt's reference. It fails the
// test if the script fails or the frame logged an error.
func puppeteer(t *testing.T, s *stack.Stack, flow string, lateModule bool, job map[string]any) string {
	t.Helper()
	nodePath, script := node(t, "puppeteer-core", filepath.Join("e2e", "testdata", "puppeteer.mjs"))
	msg := catalog(t, "en")
	job["flow"] = flow
	job["chromium"] = chromium(t)
	job["partner"] = s.PartnerURL
	job["frame"] = s.RelayURL + "/w/"
	job["profile"] = t.TempDir()
	job["screenshot"] = filepath.Join(artifacts, strings.ReplaceAll(t.Name(), "/", "_")+"-failure.png")
	job["late_module"] = lateModule
	job["button"] = msg.T("form.title")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	stdin, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := runNode(t, nodePath, script, stdin)
	var res struct {
		Reference string
		Errors    []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("puppeteer.mjs printed %q: %v", out, err)
	}
	t.Logf("Puppeteer ran %q in %s", flow, time.Since(start).Round(time.Millisecond))
	if len(res.Errors) > 0 {
		t.Errorf("the frame logged errors:\n%s", strings.Join(res.Errors, "\n"))
	}
	return res.Reference
}

func puppeteerReport(t *testing.T, lateModule bool) {
	nodePath, typage := node(t, "age-encryption", filepath.Join("interop", "testdata", "typage.mjs"))
	s := startStack(t)
	in := newInput(t)
	msg := catalog(t, "en")
	start := time.Now()
	reference := puppeteer(t, s, "report", lateModule, map[string]any{
		"labels": map[string]string{
			"locations":   msg.T("field.locations.label"),
			"add":         msg.T("field.locations.add"),
			"seen_on":     msg.T("field.seen_on.label"),
			"content":     msg.T("field.content.label"),
			"category":    msg.T("field.category.label"),
			"description": msg.T("field.description.label"),
			"submit":      msg.T("form.submit"),
			"receipt":     msg.T("receipt.title"),
			"reference":   msg.T("receipt.reference"),
		},
		"report": map[string]any{
			"locations":   in.locations,
			"seen_on":     in.seenOn.label,
			"content":     in.content.label,
			"category":    in.category.label,
			"description": in.description,
		},
	})

	id := waitInbox(t, s)
	checkReport(t, s, id, in, submitted{reference: reference, start: start})
	checkRelayKeptNothing(t, s, in)
	checkLogAddrs(t, s, false)

	// The envelope the module sealed in Chromium, as the intake stored
	// it, opens with age-encryption and the hotline's identity file.
	envelope, err := os.ReadFile(filepath.Join(s.Inbox, id+".age"))
	if err != nil {
		t.Fatal(err)
	}
	plain := runNode(t, nodePath, typage, envelope, "decrypt", s.HotlineIdentity)
	fromTypage, err := report.Parse(plain)
	if err != nil {
		t.Fatalf("what age-encryption opened is not a report: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(s.Inbox, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var o intake.Opened
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromTypage, o.Report) {
		t.Errorf("age-encryption opens %s.age to %+v, the intake to %+v", id, fromTypage, o.Report)
	}
}

// TestPuppeteerEarlyChoices makes, with Puppeteer and the module late (as
// on a slow connection), the choices a reporter may make before the
// module has arrived, and checks the form then does what was asked: a
// language picked in the menu is the form's language, and "I have a
// receipt code" opens the field to type the code in.
func TestPuppeteerEarlyChoices(t *testing.T) {
	en, de := catalog(t, "en"), catalog(t, "de")
	t.Run("language", func(t *testing.T) {
		s := startStack(t)
		puppeteer(t, s, "language", true, map[string]any{
			"language": de.T("lang.name"),
			"labels": map[string]string{
				"language":  en.T("lang.label"),
				"title":     de.T("form.title"),
				"locations": de.T("field.locations.label"),
			},
		})
	})
	t.Run("receipt-code", func(t *testing.T) {
		s := startStack(t, func(o *stack.Options) { o.FollowUp = true })
		puppeteer(t, s, "code", true, map[string]any{
			"labels": map[string]string{
				"have_code": en.T("followup.have_code"),
				"code":      en.T("followup.code_label"),
			},
		})
	})
}

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reportline/reportline/examples/stack"
	"github.com/reportline/reportline/statement"
)

// TestFormRefusesKeysTheHotlineDidNotSign: the form seals only to a key
// statement that verifies against the key the partner's snippet carries.
// Whoever edits the relay's configuration (a recipient of their own added,
// the statement re-signed with their own key and that key made the
// statement_key) gets nothing: the form sends nothing and keeps what was
// typed. So does a snippet with another key, or none.
func TestFormRefusesKeysTheHotlineDidNotSign(t *testing.T) {
	s := startStack(t)
	tamperRelayConfig(t, s, true)
	b := newBrowser(t)
	other, err := statement.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, page, says string
	}{
		{"the relay's statement re-signed by its operator", s.PartnerURL, "signature does not verify"},
		{"a snippet with another key", s.PartnerURL + "themed?key=" + url.QueryEscape(other.VerificationKey()), "signature does not verify"},
		{"a snippet without a key", s.PartnerURL + "themed?key=", "data-hotline-key"},
	} {
		t.Logf("%s: %s", tc.name, tc.page)
		b.openPage(tc.page)
		b.clickButton()
		f := b.attachFrame(s)
		f.waitReady()
		refused(t, b, f, tc.says)
	}
}

// refused fills in a report, sends it, and checks that the form refused
// to seal it: it says so, logs why, keeps what was typed and posts nothing.
func refused(t *testing.T, b *browser, f *frame, says string) {
	in := newInput(t)
	en := catalog(t, "en")
	f.click("#locations-0")
	f.typeText("locations-0", in.locations[0])
	f.choose("seen_on", in.seenOn)
	f.choose("content", in.content)
	f.choose("category", in.category)
	f.click("#rl-submit")
	f.step("wait for the form to refuse", 2*time.Minute, func(ctx context.Context) error {
		for {
			status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("rl-status").textContent`))
			if err != nil {
				return err
			}
			if strings.Contains(status, en.T("form.failed")) {
				if !strings.Contains(status, says) {
					return fmt.Errorf("the status %q does not say %q", status, says)
				}
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (status %q)", ctx.Err(), status)
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	if errs := strings.Join(b.errorsInFrame(), "\n"); !strings.Contains(errs, "cannot be sealed to the hotline's keys: ") || !strings.Contains(errs, says) {
		t.Errorf("the frame's console does not say why:\n%s", errs)
	}
	if got := f.value("locations-0"); got != in.locations[0] {
		t.Errorf("after the refusal the address field holds %q, want what was typed", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.requests {
		if r.method == "POST" {
			t.Errorf("the form posted %s", r.url)
		}
	}
	b.frameErrors, b.requests = nil, nil
}

// tamperRelayConfig does what someone who controls the relay's
// configuration but not the hotline's signing key can: it re-signs the
// statement with a key of its own, with its own recipient added to the
// hotline's (keep) or in their place, makes that key the statement_key,
// and restarts the relay, which accepts it. It returns the recipients the
// relay's statement then lists.
func tamperRelayConfig(t *testing.T, s *stack.Stack, keep bool) (recipients []string) {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "attacker.key")
	hotline := filepath.Join(build(t).bin, "hotline")
	vk, err := exec.Command(hotline, "keygen", "-sign", "-o", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "attacker-identity.txt")
	attacker := run(t, hotline, "keygen", "-o", id)
	cfg, err := os.ReadFile(s.RelayConfig)
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)statement = '''\n(.*?)'''`).FindSubmatch(cfg)
	if block == nil {
		t.Fatalf("no statement in the relay's configuration:\n%s", cfg)
	}
	st, err := statement.Parse(block[1])
	if err != nil {
		t.Fatal(err)
	}
	recipients = []string{attacker}
	if keep {
		recipients = append(st.Recipients, attacker)
	}
	forged := run(t, hotline, append([]string{"sign", "-key", key, "-hotline", st.Hotline, "-serial", fmt.Sprint(st.Serial + 1),
		"-valid-from", st.ValidFrom.Format(time.RFC3339)}, recipients...)...)
	out := strings.Replace(string(cfg), string(block[1]), forged+"\n", 1)
	out = regexp.MustCompile(`statement_key = "hlvk_[^"]*"`).ReplaceAllString(out, `statement_key = "`+strings.TrimSpace(string(vk))+`"`)
	if err := os.WriteFile(s.RelayConfig, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.StopRelay(false); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRelay(); err != nil {
		t.Fatalf("the relay refused the re-signed statement, which the attack needs it to take: %v", err)
	}
	return recipients
}

// run runs a command and returns its standard output, trimmed.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

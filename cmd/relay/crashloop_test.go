package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/report"
)

// crashLoop is a relay and a hotline intake run as real processes on
// loopback and killed again and again, as a process manager that restarts
// them (systemd's Restart=always) would see them after each crash.
type crashLoop struct {
	t                    *testing.T
	relayBin, hotlineBin string
	s                    *setup
	intakeAddr, addr     string
	inbox, idFile        string
	rcpts                *report.Recipients
	verifyKey            string
	relay, intake        *proc
	intakes              []*proc // every intake started, for their logs

	mu       sync.Mutex
	accepted []string        // ids answered 202
	posted   map[string]bool // every id sent, answered or not
}

func newCrashLoop(t *testing.T) *crashLoop {
	c := &crashLoop{t: t, relayBin: testbin.Build(t, "relay"), hotlineBin: testbin.BuildPackage(t, "hotline", "../hotline"),
		s: newSetup(t), posted: map[string]bool{}}
	c.intakeAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	hotlineDir := t.TempDir()
	c.inbox, c.idFile = filepath.Join(hotlineDir, "inbox"), filepath.Join(hotlineDir, "identity.txt")
	out, err := exec.Command(c.hotlineBin, "keygen", "-classic", "-o", c.idFile).CombinedOutput()
	recipient := regexp.MustCompile(`age1[0-9a-z]+`).FindString(string(out))
	if err != nil || recipient == "" {
		t.Fatalf("hotline keygen: %v\n%s", err, out)
	}
	c.s.recipient = recipient
	c.rcpts, _ = report.ParseRecipients([]string{recipient})
	key, err := delivery.ReadKeyFile(c.s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := delivery.NewEd25519Signer(key)
	c.verifyKey = signer.PublicKey()
	c.s.write(t, fmt.Sprintf(`retry_min = "1s"
retry_max = "2s"
delivery_timeout = "10s"
shutdown_timeout = "5s"
mailbox = %q
admin_socket = %q
`+underLoad, filepath.Join(c.s.dir, "mailbox.db"), filepath.Join(c.s.dir, "admin.sock")), `color = "#000000"`)
	cfg, _ := os.ReadFile(c.s.cfgPath)
	c.s.writeConfig(t, strings.Replace(string(cfg), "http://127.0.0.1:9/v1/deliveries", "http://"+c.intakeAddr+"/v1/deliveries", 1))
	return c
}

// waitAllDelivered waits until every report answered 202 is in the inbox.
func (c *crashLoop) waitAllDelivered() {
	c.t.Helper()
	c.relay.waitUntil(c.t, "every accepted report in the inbox", func() bool {
		got := c.delivered()
		for _, id := range c.accepted {
			if !got[id] {
				return false
			}
		}
		return true
	})
}

// startIntake starts the intake and waits until it listens.
func (c *crashLoop) startIntake() {
	c.intake = startProc(c.t, "", nil, c.hotlineBin, "intake", "-listen", c.intakeAddr, "-identity", c.idFile,
		"-inbox", c.inbox, "-verify-key", c.verifyKey, "-hotline", "h1")
	c.intakes = append(c.intakes, c.intake)
	c.intake.waitUntil(c.t, "the intake to listen", logHas(c.intake.out, "intake listening"))
}

// storedTwice returns the ids that intakes logged as received more than
// once (a report stored again after it was whole), and how many ids they
// logged.
func (c *crashLoop) storedTwice() (twice []string, logged int) {
	n := map[string]int{}
	re := regexp.MustCompile(`"msg":"report received","report":"([0-9a-f-]+)"`)
	for _, p := range c.intakes {
		for _, m := range re.FindAllStringSubmatch(p.out.String(), -1) {
			n[m[1]]++
		}
	}
	for id, k := range n {
		if k > 1 {
			twice = append(twice, id)
		}
	}
	return twice, len(n)
}

// startRelay starts the relay without waiting for anything.
func (c *crashLoop) startRelay() {
	if c.relay != nil && c.relay.alive() {
		c.t.Fatal("the test starts a relay while one runs")
	}
	c.relay = startProc(c.t, "", nil, c.relayBin, "serve", "-config", c.s.cfgPath, "-listen", c.addr)
}

// waitReady waits until the relay answers /readyz.
func (c *crashLoop) waitReady() {
	c.relay.waitUntil(c.t, "the relay to be ready", func() bool { return answers200("http://" + c.addr + "/readyz") })
}

// send posts n reports as the form would, one after the other, and
// records the ids answered 202.
func (c *crashLoop) send(n int) {
	for range n {
		id := uuid.NewString()
		env := c.seal(id, 1)
		proof, err := solveChallenge(c.addr, "s1")
		if err != nil {
			c.t.Fatalf("challenge: %v\n%s", err, c.relay.out)
		}
		c.mu.Lock()
		c.posted[id] = true
		c.mu.Unlock()
		status, body, err := postReport(c.addr, "s1", id, proof, env)
		if err != nil || status != http.StatusAccepted {
			c.t.Fatalf("report answered %d %v: %s\n%s", status, err, body, c.relay.out)
		}
		c.mu.Lock()
		c.accepted = append(c.accepted, id)
		c.mu.Unlock()
	}
}

// delivered returns the ids whose two files are in the inbox.
func (c *crashLoop) delivered() map[string]bool {
	got := map[string]bool{}
	entries, _ := os.ReadDir(c.inbox)
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			if _, err := os.Stat(filepath.Join(c.inbox, id+".age")); err == nil {
				got[id] = true
			}
		}
	}
	return got
}

// checkNothingLeft fails the test if the relay's folder or the inbox
// holds anything a killed start or store left behind (a temporary file, a
// half-written report), but the one copy of the spool a compaction cut
// short leaves, if compacting, which the next start removes. It returns
// whether that copy is there.
func (c *crashLoop) checkNothingLeft(when string, compacting bool) (copyLeft bool) {
	c.t.Helper()
	for _, e := range mustReadDir(c.t, c.s.dir) {
		switch name := e.Name(); name {
		case "relay.toml", "relay-signing.key", "assets", "spool.db", "mailbox.db", "admin.sock":
		case "spool.db.compact":
			copyLeft = true
			if !compacting {
				c.t.Errorf("%s: the relay's folder holds %s", when, name)
			}
		default:
			c.t.Errorf("%s: the relay's folder holds %s", when, name)
		}
	}
	for _, e := range mustReadDir(c.t, c.inbox) {
		name := e.Name()
		id, ok := strings.CutSuffix(name, ".json")
		if !ok {
			id, ok = strings.CutSuffix(name, ".age")
		}
		if !ok || uuid.Validate(id) != nil {
			c.t.Errorf("%s: the inbox holds %s", when, name)
		}
	}
	return copyLeft
}

// seedSpool leaves in the spool what a relay stopped with a backlog
// leaves, in a file that an earlier, larger backlog made large and mostly
// free: the relay compacts it when it opens it, and then delivers the
// backlog. Its reports are the largest the form sends, and count as
// accepted.
func (c *crashLoop) seedSpool(backlog int) {
	sp, err := spool.Open(filepath.Join(c.s.dir, "spool.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	var drained []string
	for i := range 600 + backlog { // 39 MB drained: over the 32 MiB below which nothing is compacted
		id := uuid.NewString()
		body := junk
		if i%3 == 0 && i/3 < backlog {
			body = c.seal(id, 20)
			c.accepted = append(c.accepted, id)
			c.posted[id] = true
		} else {
			drained = append(drained, id)
		}
		if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Body: body}); err != nil {
			c.t.Fatal(err)
		}
	}
	if _, err := sp.DeleteAll(drained); err != nil {
		c.t.Fatal(err)
	}
	sp.Close()
}

// seal seals a report with n long addresses.
func (c *crashLoop) seal(id string, n int) []byte {
	r := &report.Report{Version: report.Version, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second),
		Locale: "en", SeenOn: "website", Content: "video", Category: "csam"}
	for i := range n {
		r.Locations = append(r.Locations, report.Location{Kind: "url", Value: fmt.Sprintf("https://example.com/%d/%s", i, strings.Repeat("a", 1900))})
	}
	env, err := report.Seal(r, c.rcpts)
	if err != nil {
		c.t.Fatal(err)
	}
	return env
}

// TestCrashLoop kills the relay (SIGKILL) again and again at varied points
// of its start and of its first deliveries, and the intake while it
// stores reports, restarting each as systemd's Restart=always would.
// Each kill waits on an event (a log line, readiness, a report stored),
// never on time. In the end every report answered 202 is in the inbox
// exactly once, with both its files; the spool holds nothing; no start
// was refused because of what a killed one left (the spool's lock, a
// half-compacted copy, the admin socket, a half-written report); and
// nothing piles up in the relay's folder or the inbox from one kill to
// the next.
func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the relay and the intake and kills them")
	}
	c := newCrashLoop(t)
	c.seedSpool(100)
	before, _ := os.Stat(filepath.Join(c.s.dir, "spool.db"))
	c.startIntake()

	// Where each start is killed, in order.
	points := []string{
		"at once", "opening the store", "at once", "opening the store", // while the spool is opened and compacted
		"ready", "accepting", "delivering", "intake storing",
		"opening the store", "delivering", "accepting", "intake storing",
		"at once", "delivering", "intake storing", "ready",
	}
	cutShort := 0
	for i, point := range points {
		when := fmt.Sprintf("kill %d (%s)", i+1, point)
		delivered := len(c.delivered())
		c.startRelay()
		switch point {
		case "at once":
		case "opening the store":
			c.relay.waitUntil(t, "the relay to open its store", logHas(c.relay.out, "opening the report store"))
		case "ready":
			c.waitReady()
		case "accepting":
			c.waitReady()
			c.send(3)
		case "delivering":
			c.waitReady()
			c.send(4)
			c.relay.waitUntil(t, "a delivery", func() bool { return len(c.delivered()) > delivered })
		case "intake storing":
			c.waitReady()
			c.send(6)
			c.relay.waitUntil(t, "a delivery", func() bool { return len(c.delivered()) > delivered })
			c.intake.kill()
			c.checkNothingLeft(when, true)
			// Where the inbox's filesystem cannot write unnamed files
			// (O_TMPFILE), a store cut short leaves a temporary one.
			leftover := filepath.Join(c.inbox, ".tmp-"+fmt.Sprint(i))
			if err := os.WriteFile(leftover, []byte("half a report"), 0o600); err != nil {
				t.Fatal(err)
			}
			c.startIntake()
			if _, err := os.Stat(leftover); err == nil {
				t.Errorf("%s: the intake started and kept %s, the temporary file of a store cut short", when, filepath.Base(leftover))
			}
		}
		c.relay.kill()
		if c.checkNothingLeft(when, true) {
			cutShort++
		}
	}
	t.Logf("%d kills cut a compaction short", cutShort)

	// The last start: everything accepted arrives, once.
	c.startRelay()
	c.waitReady()
	c.waitAllDelivered()
	c.relay.waitUntil(t, "the spool to empty", func() bool {
		out, err := exec.Command(c.relayBin, "spool", "ls", "-config", c.s.cfgPath).CombinedOutput()
		return err == nil && strings.Contains(string(out), "0 pending, 0 dead")
	})
	c.checkNothingLeft("the end", false)
	// A store cut short is never logged, so some reports may be stored
	// unlogged; none may be logged twice.
	if twice, logged := c.storedTwice(); len(twice) > 0 || logged < len(c.accepted)/2 {
		t.Errorf("the intakes logged %d of %d reports as received, these twice: %v", logged, len(c.accepted), twice)
	}
	for id := range c.delivered() {
		if !c.posted[id] {
			t.Errorf("the inbox holds %s, which was never sent", id)
		}
	}
	if n := len(c.accepted); n < 20 {
		t.Errorf("only %d reports were accepted; the test means to send more", n)
	}
	after, _ := os.Stat(filepath.Join(c.s.dir, "spool.db"))
	if after.Size() >= before.Size() {
		t.Errorf("the spool was never compacted: %d bytes before, %d after", before.Size(), after.Size())
	}
	if strings.Count(c.relay.out.String(), "opening the report store") != 1 {
		t.Errorf("the last start's log:\n%s", c.relay.out)
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/internal/testlog"
	"github.com/reportline/reportline/relay/natsstore"
	"github.com/reportline/reportline/report"
)

// clusterSetup is two relay processes on a three-server JetStream
// cluster (R3, every write fsynced), delivering to one real intake.
type clusterSetup struct {
	t      *testing.T
	bin    string
	s      *setup
	nats   *natstest.Cluster
	inbox  string
	posts  atomic.Int64 // deliveries the intake answered 2xx, duplicates included
	rcpts  *report.Recipients
	relays [2]*relayProc
}

// relayProc is one relay process.
type relayProc struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has ended
	logs   *testlog.Buffer
}

// stop ends the process with SIGKILL, as a crash would, if it runs.
func (r *relayProc) stop() {
	if r.cmd != nil {
		r.cmd.Process.Kill()
		<-r.exited
		r.cmd = nil
	}
}

func newClusterSetup(t *testing.T) *clusterSetup { return newClusterSetupWith(t, nil) }

// newClusterSetupWith is newClusterSetup with edit applied to the
// relays' configuration before they start.
func newClusterSetupWith(t *testing.T, edit func(cfg string) string) *clusterSetup {
	if testing.Short() {
		t.Skip("runs a NATS cluster and two relay processes")
	}
	c := &clusterSetup{t: t, bin: testbin.Build(t, "relay"), s: newSetup(t), nats: natstest.Start(t, 3), inbox: t.TempDir()}
	id, _ := age.GenerateX25519Identity()
	c.s.recipient = id.Recipient().String()
	c.rcpts, _ = report.ParseRecipients([]string{c.s.recipient})
	key, err := delivery.ReadKeyFile(c.s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := delivery.NewEd25519Signer(key)
	v, _ := delivery.NewVerifier(signer.PublicKey())
	in := &intake.Intake{Verifier: v, Inbox: c.inbox, Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		in.ServeHTTP(rec, r)
		if rec.code/100 == 2 {
			c.posts.Add(1)
		}
	}))
	t.Cleanup(ts.Close)
	var urls []string
	for _, u := range c.nats.URLs() {
		urls = append(urls, fmt.Sprintf("%q", u))
	}
	c.s.write(t, `store = "jetstream"
retry_min = "1s"
retry_max = "2s"
delivery_timeout = "5s"
shutdown_timeout = "5s"
[relay.jetstream]
urls = [`+strings.Join(urls, ", ")+`]
ack_wait = "5s"
`+underLoad, `color = "#000000"`)
	cfg, _ := os.ReadFile(c.s.cfgPath)
	text := strings.Replace(string(cfg), "http://127.0.0.1:9/v1/deliveries", ts.URL+"/v1/deliveries", 1)
	if edit != nil {
		text = edit(text)
	}
	os.WriteFile(c.s.cfgPath, []byte(text), 0o600)
	for i := range c.relays {
		c.relays[i] = &relayProc{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		c.startRelay(i)
	}
	t.Cleanup(func() {
		for _, r := range c.relays {
			r.stop()
		}
	})
	return c
}

// startRelay starts relay i on its address and waits until it is ready.
func (c *clusterSetup) startRelay(i int) {
	r := c.relays[i]
	r.logs = &testlog.Buffer{}
	r.cmd = exec.Command(c.bin, "serve", "-config", c.s.cfgPath, "-listen", r.addr)
	r.cmd.Stderr = r.logs
	if err := r.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(r.cmd, r.exited)
	// Opening the store may take up to a minute while the cluster elects
	// its leaders after a fault.
	const limit = 2 * time.Minute
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-r.exited:
			c.t.Fatalf("relay %d ended before it was ready: %v\n%s", i, r.cmd.ProcessState, r.logs)
		case <-time.After(50 * time.Millisecond): // polling readiness
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("relay %d not ready within %s\n%s", i, limit, r.logs)
		}
	}
}

// killRelay ends relay i with SIGKILL, as a crash would.
func (c *clusterSetup) killRelay(i int) {
	c.relays[i].stop()
}

// proof asks relay `from` for a challenge and solves it.
func (c *clusterSetup) proof(from int) (string, error) {
	return solveChallenge(c.relays[from].addr, "s1")
}

// post sends a sealed report to relay `to` with a proof, and returns the
// status.
func (c *clusterSetup) post(to int, id, proof string, env []byte) (int, string, error) {
	return postReport(c.relays[to].addr, "s1", id, proof, env)
}

func (c *clusterSetup) seal(id string) []byte {
	r := &report.Report{Version: report.Version, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
		Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam"}
	env, err := report.Seal(r, c.rcpts)
	if err != nil {
		c.t.Fatal(err)
	}
	return env
}

// send submits one report as a browser behind a load balancer would: a
// challenge from one relay, the report to the other, and on failure the
// same report again (same id), through each pair of relays in turn. It
// returns whether a relay answered 202.
func (c *clusterSetup) send(n int, id string, env []byte) bool {
	x, y := n%2, 1-n%2
	pairs := [][2]int{{x, y}, {y, y}, {x, x}, {y, x}}
	for try := range 8 {
		from, to := pairs[try%4][0], pairs[try%4][1]
		proof, err := c.proof(from)
		if err != nil {
			continue
		}
		status, _, err := c.post(to, id, proof, env)
		if err == nil && status == http.StatusAccepted {
			return true
		}
	}
	return false
}

// store opens the cluster's store from the test, to look at it.
func (c *clusterSetup) store() *natsstore.Store {
	nc, err := natsstore.Connect(natsstore.Conn{URLs: c.nats.URLs()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	// Right after a fault the cluster may still be electing leaders.
	var st *natsstore.Store
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err = natsstore.Open(ctx, nc, natsstore.Options{AckWait: 5 * time.Second})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatal(err)
		}
	}
	c.t.Cleanup(func() { st.Close() })
	return st
}

// TestClusterProofSpentOnce: a proof spent at one relay cannot be spent
// on another report at the other, and a challenge from one relay is good
// at the other.
func TestClusterProofSpentOnce(t *testing.T) {
	c := newClusterSetup(t)
	proof, err := c.proof(0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := uuid.NewString(), uuid.NewString()
	if st, body, err := c.post(1, a, proof, c.seal(a)); err != nil || st != http.StatusAccepted {
		t.Fatalf("a challenge from relay 0 at relay 1: %d %s %v", st, body, err)
	}
	if st, body, err := c.post(0, a, proof, c.seal(a)); err != nil || st == http.StatusForbidden {
		// The same report again (a retry) is not refused for its proof;
		// its body differs (sealed anew), so it is a conflict.
		t.Fatalf("the same report id again at relay 0: %d %s %v", st, body, err)
	}
	st, body, err := c.post(0, b, proof, c.seal(b))
	if err != nil || st != http.StatusForbidden || !strings.Contains(body, "pow-used") {
		t.Fatalf("the proof spent on another report at relay 0: %d %s %v; want 403 pow-used", st, body, err)
	}
}

// TestClusterFaults: under load from two relays, one NATS server is
// killed, one relay is killed with SIGKILL, both are restarted, and a
// server is partitioned away and healed; every report that got a 202
// reaches the intake exactly once and none is left pending.
//
// REPORTLINE_SOAK=N repeats the cycle of faults N times (make soak).
func TestClusterFaults(t *testing.T) {
	c := newClusterSetup(t)
	rounds := 1
	if v := os.Getenv("REPORTLINE_SOAK"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	const step = 15 // reports accepted between two faults
	faults := []struct {
		name string
		do   func()
	}{
		{"kill NATS server 2", func() { c.nats.Kill(2) }},
		{"SIGKILL relay 0", func() { c.killRelay(0) }},
		{"restart both", func() { c.nats.Restart(2); c.startRelay(0); c.nats.WaitReady() }},
		{"partition NATS server 1", func() { c.nats.Partition(1) }},
		{"heal", func() { c.nats.Heal(1); c.nats.WaitReady() }},
	}
	total := step * (len(faults)*rounds + 1)

	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		sent     = map[string]bool{}
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	progress := make(chan struct{}, total)
	const workers = 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > total*20 { // bounded even if relays refuse
					return
				}
				mu.Lock()
				done := len(accepted) >= total
				mu.Unlock()
				if done {
					return
				}
				id := uuid.NewString()
				mu.Lock()
				sent[id] = true
				mu.Unlock()
				if c.send(n+w, id, c.seal(id)) {
					mu.Lock()
					accepted[id] = true
					mu.Unlock()
					progress <- struct{}{}
				}
			}
		}()
	}
	count := 0
	waitAccepted := func(n int, what string) {
		for count < n {
			select {
			case <-progress:
				count++
			case <-time.After(90 * time.Second):
				t.Fatalf("%s: only %d of %d reports accepted within 90s\nrelay 0:\n%s\nrelay 1:\n%s", what, count, n, c.relays[0].logs, c.relays[1].logs)
			}
		}
	}
	// waitAcceptedFor is waitAccepted for at most d: a partition lasts
	// until reports got through the majority, or d, since a relay whose
	// connection is to the server cut off stores nothing until it heals
	// (and both relays may be on it).
	waitAcceptedFor := func(n int, d time.Duration) {
		end := time.After(d)
		for count < n {
			select {
			case <-progress:
				count++
			case <-end:
				return
			}
		}
	}
	for r := range rounds {
		for i, f := range faults {
			if f.name == "heal" {
				waitAcceptedFor(step*(r*len(faults)+i+1), 10*time.Second)
			} else {
				waitAccepted(step*(r*len(faults)+i+1), "before "+f.name)
			}
			t.Logf("round %d: %s after %d accepted", r+1, f.name, count)
			f.do()
		}
	}
	waitAccepted(total, "at the end")
	wg.Wait()

	st := c.store()
	deadline := time.Now().Add(120 * time.Second)
	for {
		stats, err := st.Stats()
		missing := 0
		mu.Lock()
		for id := range accepted {
			if _, err := os.Stat(filepath.Join(c.inbox, id+".json")); err != nil {
				missing++
			}
		}
		mu.Unlock()
		if err == nil && missing == 0 && stats.Pending == 0 && stats.Dead == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 120s: %d accepted reports not at the intake, store %+v (%v)\nrelay 0:\n%s\nrelay 1:\n%s",
				missing, stats, err, c.relays[0].logs, c.relays[1].logs)
		}
		time.Sleep(100 * time.Millisecond) // polling the intake and the store
	}
	// Exactly once: one file per report in the inbox, and none the
	// load did not send.
	files, _ := filepath.Glob(filepath.Join(c.inbox, "*.json"))
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		if !sent[id] {
			t.Errorf("the intake holds %s, which was never sent", id)
		}
	}
	if len(files) < len(accepted) {
		t.Errorf("the intake holds %d reports, fewer than the %d accepted", len(files), len(accepted))
	}
	t.Logf("%d reports accepted, %d at the intake (%d sent without a 202 but stored), %d deliveries answered 2xx (duplicates included)",
		len(accepted), len(files), len(files)-len(accepted), c.posts.Load())
}

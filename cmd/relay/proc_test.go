package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/testlog"
	"github.com/reportline/reportline/pow"
)

// proc is a process a test started: its output, and a channel closed
// when it has exited.
type proc struct {
	cmd    *exec.Cmd
	out    *testlog.Buffer
	exited chan struct{}
}

// startProc starts bin with args in dir, with env added to the test's
// environment, and ends it with SIGKILL when the test ends.
func startProc(t testing.TB, dir string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &testlog.Buffer{}, exited: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(p.cmd.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process with SIGKILL, as a crash or `systemctl kill
// -s KILL` would, and waits until it has exited.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// pid is the process's id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process still runs.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitUntil polls cond until it holds, and fails the test if the process
// exits first or cond does not hold within two minutes (a loaded machine
// can be slow; nothing here waits on time, only on the condition).
func (p *proc) waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		select {
		case <-p.exited:
			if cond() {
				return
			}
			t.Fatalf("%s exited (%v) before %s:\n%s", p.cmd.Args[0], p.cmd.ProcessState, what, p.out)
		case <-time.After(10 * time.Millisecond): // polling the condition
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, p.out)
		}
	}
}

// answers200 reports whether url answers 200.
func answers200(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

var reportClient = &http.Client{Timeout: 30 * time.Second}

// solveChallenge asks the relay at addr for a challenge for site and
// solves it, as the form does.
func solveChallenge(addr, site string) (string, error) {
	resp, err := reportClient.Get("http://" + addr + "/v1/sites/" + site + "/challenge")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("challenge: %s", resp.Status)
	}
	var ch pow.Challenge
	if err := json.NewDecoder(resp.Body).Decode(&ch); err != nil {
		return "", err
	}
	sol, err := pow.Solve(&ch, nil)
	if err != nil {
		return "", err
	}
	return sol.Encode(), nil
}

// postReport sends a sealed report with a proof to the relay at addr for
// site, and returns the status and body of the answer.
func postReport(addr, site, id, proof string, env []byte) (int, string, error) {
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/sites/"+site+"/reports/"+id, bytes.NewReader(env))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(pow.Header, proof)
	resp, err := reportClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// logHas returns a condition that holds once out holds s.
func logHas(out *testlog.Buffer, s string) func() bool {
	return func() bool { return strings.Contains(out.String(), s) }
}

// underLoad is the end of a relay's configuration for tests that send
// many reports from one address: a light proof of work and limits no such
// test reaches.
const underLoad = `[relay.pow]
difficulty = 1000
max_difficulty = 1000
[relay.limits]
reports_per_minute = 100000
report_burst = 10000
challenges_per_minute = 100000
challenge_burst = 10000
total_reports_per_minute = 100000`

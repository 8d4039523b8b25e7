package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
)

// intakeBatches returns how many batches the running intake has answered
// 200, from its metrics, or 0 if it does not answer.
func (c *crashLoop) intakeBatches() int {
	resp, err := http.Get("http://" + c.intakeAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^reportline_intake_batches_total (\d+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestKillBothMidBatch kills the relay and the intake at the same moment
// (a power cut of a machine running both, or an operator's mistake),
// while the relay drains a backlog in batches, and starts them again, a
// few times. Every report answered 202 reaches the inbox once, and
// nothing is left half-written.
func TestKillBothMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the relay and the intake and kills them")
	}
	c := newCrashLoop(t)
	c.startRelay()
	c.waitReady()
	batches := 0
	for round := range 3 {
		c.send(60) // the intake is down: a backlog
		c.startIntake()
		// Batches come once the intake's first answers announced them.
		c.relay.waitUntil(t, "a batched delivery", func() bool { return c.intakeBatches() > 0 })
		batches += c.intakeBatches()
		c.relay.cmd.Process.Kill()
		c.intake.cmd.Process.Kill()
		<-c.relay.exited
		<-c.intake.exited
		c.checkNothingLeft(fmt.Sprint("kill ", round+1), true)
		c.startRelay()
		c.waitReady()
	}
	c.startIntake()
	c.waitAllDelivered()
	if twice, _ := c.storedTwice(); len(twice) > 0 {
		t.Errorf("stored twice: %v", twice)
	}
	for id := range c.delivered() {
		if !c.posted[id] {
			t.Errorf("the inbox holds %s, which was never sent", id)
		}
	}
	c.checkNothingLeft("the end", false)
	t.Logf("%d reports, %d batches before the kills", len(c.accepted), batches)
}

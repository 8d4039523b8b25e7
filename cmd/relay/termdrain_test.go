package main

import (
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTermWhileDeliveryHangs: SIGTERM reaches the relay while its
// deliveries hang on an intake that never answers. The relay waits
// relay.shutdown_timeout, says that deliveries are still under way, cuts
// them at relay.delivery_timeout, exits 0, and keeps the reports: started
// again beside a working intake, it delivers each of them once.
func TestTermWhileDeliveryHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the relay and the intake")
	}
	c := newCrashLoop(t)
	ln, err := net.Listen("tcp", c.intakeAddr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 100)
	release := make(chan struct{})
	hang := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- struct{}{}
		<-release
		w.WriteHeader(http.StatusServiceUnavailable)
	})}
	go hang.Serve(ln)
	defer hang.Close()
	defer close(release)
	c.startRelay()
	c.waitReady()
	c.send(3)
	select {
	case <-got:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no delivery reached the intake:\n%s", c.relay.out)
	}
	c.relay.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.relay.exited:
	case <-time.After(2 * time.Minute): // far above shutdown_timeout + delivery_timeout (15 s)
		t.Fatalf("the relay still runs two minutes after SIGTERM:\n%s", c.relay.out)
	}
	if !c.relay.cmd.ProcessState.Success() {
		t.Errorf("the relay ended with %v after SIGTERM:\n%s", c.relay.cmd.ProcessState, c.relay.out)
	}
	if !strings.Contains(c.relay.out.String(), "deliveries still under way after relay.shutdown_timeout") {
		t.Errorf("the relay's log does not say deliveries were still under way:\n%s", c.relay.out)
	}
	hang.Close()

	c.startIntake()
	c.startRelay()
	c.waitReady()
	c.relay.waitUntil(t, "the reports in the inbox", func() bool { return len(c.delivered()) == len(c.accepted) })
	for _, id := range c.accepted {
		if !c.delivered()[id] {
			t.Errorf("%s, answered 202, is not in the inbox", id)
		}
	}
	if twice, _ := c.storedTwice(); len(twice) > 0 {
		t.Errorf("stored twice: %v", twice)
	}
	c.checkNothingLeft("the end", false)
}

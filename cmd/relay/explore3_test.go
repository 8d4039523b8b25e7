package main

import (
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestExploreTermDuringDrain(t *testing.T) {
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
		w.WriteHeader(503)
	})}
	go hang.Serve(ln)
	c.startRelay()
	c.waitReady()
	c.send(3)
	<-got
	start := time.Now()
	c.relay.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.relay.exited:
	case <-time.After(time.Minute):
		t.Fatal("not stopped")
	}
	fmt.Println("stopped after", time.Since(start), c.relay.cmd.ProcessState)
	close(release)
	hang.Close()
	c.startIntake()
	c.startRelay()
	c.waitReady()
	c.relay.waitUntil(t, "all", func() bool { return len(c.delivered()) == 3 })
	fmt.Println(etail(c.intakes[0].out.String(), 2000))
	fmt.Println("=== relay 1")
	fmt.Println(etail(c.relay.out.String(), 3000))
}

func etail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/reportline/reportline/examples/stack"
)

// TestClusterFailover is make demo-cluster as a person would use it: a
// report sent from the partner page through the load balancer reaches the
// inbox; then one relay and one NATS server are killed (SIGKILL), and a
// second report sent the same way reaches it too, through the relay and
// the two servers left.
func TestClusterFailover(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.NATSNodes, o.Relays = 3, 2 })
	b := newBrowser(t)
	b.submitReport(s, newInput(t))
	first := waitInbox(t, s, 60*time.Second)

	if err := s.StopRelay(true); err != nil {
		t.Fatal(err)
	}
	if err := s.StopProcess("nats2", true); err != nil {
		t.Fatal(err)
	}
	b.submitReport(s, newInput(t))
	deadline := time.Now().Add(90 * time.Second)
	for {
		files := inboxFiles(t, s)
		var ids []string
		for _, f := range files {
			if len(f) > 5 && f[len(f)-5:] == ".json" {
				ids = append(ids, f[:len(f)-5])
			}
		}
		if len(ids) == 2 && slices.Contains(ids, first) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a relay and a NATS server were killed, the second report did not arrive within 90s: inbox %v", files)
		}
		time.Sleep(100 * time.Millisecond) // polling the inbox
	}
}

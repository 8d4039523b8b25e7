package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/reportline/reportline/examples/stack"
)

// TestClusterFailover is make demo-cluster as a person would use it: a
// report sent from the partner page through the load balancer reaches the
// inbox; then one relay and one NATS server are killed (SIGKILL), and a
// second report sent the same way reaches it too, through the relay and
// the two servers left. As in the demo, follow-up is on, its mailboxes on
// the cluster.
func TestClusterFailover(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.NATSNodes, o.Relays, o.FollowUp = 3, 2, true })
	b := newBrowser(t)
	b.submitReport(s, newInput(t))
	first := waitInbox(t, s)

	if err := s.StopRelay(true); err != nil {
		t.Fatal(err)
	}
	if err := s.StopProcess("nats2", true); err != nil {
		t.Fatal(err)
	}
	b.submitReport(s, newInput(t))
	waitFor(t, 2*deliveryLimit, "second report in the inbox after a relay and a NATS server were killed", func() ([]string, bool) {
		var ids []string
		for _, f := range inboxFiles(t, s) {
			if id, ok := strings.CutSuffix(f, ".json"); ok {
				ids = append(ids, id)
			}
		}
		return ids, len(ids) == 2 && slices.Contains(ids, first)
	})
}

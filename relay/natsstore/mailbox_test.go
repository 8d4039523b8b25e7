package natsstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/relay/mailbox/mailboxtest"
	"github.com/reportline/reportline/relay/natsstore"
)

// The mailboxes on JetStream behave as the bbolt file does.
func TestMailboxes(t *testing.T) {
	c := natstest.Start(t, 1)
	nc := connect(t, c)
	var n atomic.Int32
	mailboxtest.Run(t, func(t *testing.T, retention time.Duration) mailboxtest.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m, err := natsstore.OpenMailboxes(ctx, nc, natsstore.Options{Name: fmt.Sprintf("m%d", n.Add(1)), Replicas: 1}, retention)
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

// Two relays share the mailboxes: a reply posted at one is fetched and
// acknowledged at the other; only the code's acknowledgement of a reply
// held writes; and an emptied mailbox leaves nothing under its key.
func TestMailboxesShared(t *testing.T) {
	c := natstest.Start(t, 1)
	o := natsstore.Options{Name: "shared", Replicas: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := natsstore.OpenMailboxes(ctx, connect(t, c), o, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natsstore.OpenMailboxes(ctx, connect(t, c), o, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	k := mailboxtest.Keys(t)
	env := mailboxtest.Envelope(7)
	if err := a.Put("de-hotline", k.Mailbox, k.Check, env, mailboxtest.T0, mailboxtest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(connect(t, c))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "KV_shared_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	// What the stream holds and where its sequence is: any write or purge
	// changes it.
	lastSeq := func() [3]uint64 {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return [3]uint64{info.State.Msgs, info.State.FirstSeq, info.State.LastSeq}
	}
	// Without the code, or naming nothing held, nothing is written: the
	// same work as for an empty mailbox.
	before := lastSeq()
	other := mailboxtest.Keys(t)
	b.Peek("de-hotline", k.Mailbox, other.RequestKey, mailboxtest.T0)
	b.Ack("de-hotline", k.Mailbox, other.RequestKey, []string{followup.EnvelopeID(env)}, mailboxtest.T0)
	b.Ack("de-hotline", other.Mailbox, other.RequestKey, []string{followup.EnvelopeID(env)}, mailboxtest.T0)
	b.Ack("de-hotline", k.Mailbox, k.RequestKey, []string{followup.EnvelopeID(mailboxtest.Envelope(8))}, mailboxtest.T0)
	if after := lastSeq(); after != before {
		t.Fatalf("the stream went from %v to %v without the code and a reply it holds", before, after)
	}
	got, err := b.Peek("de-hotline", k.Mailbox, k.RequestKey, mailboxtest.T0)
	if err != nil || len(got) != 1 {
		t.Fatalf("the other relay sees %d replies, %v", len(got), err)
	}
	if err := b.Ack("de-hotline", k.Mailbox, k.RequestKey, []string{followup.EnvelopeID(got[0])}, mailboxtest.T0); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Peek("de-hotline", k.Mailbox, k.RequestKey, mailboxtest.T0); len(got) != 0 {
		t.Fatal("the first relay still gives out the acknowledged reply")
	}
	if lastSeq() == before {
		t.Fatal("the acknowledgement with the code wrote nothing; the check above proves nothing")
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Fatalf("the emptied mailbox left %d messages in the bucket's stream", info.State.Msgs)
	}
}

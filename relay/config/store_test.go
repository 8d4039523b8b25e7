package config

import (
	"strings"
	"testing"
	"time"
)

func TestStoreDefaultsToBbolt(t *testing.T) {
	c, err := Parse([]byte(validTOML(t)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Relay.Store != StoreBbolt || c.Relay.StoreName() != "bbolt data/spool.db" {
		t.Fatalf("store %q (%s), want bbolt", c.Relay.Store, c.Relay.StoreName())
	}
}

func TestJetStreamStore(t *testing.T) {
	in := strings.Replace(validTOML(t), `spool = "data/spool.db"`, `store = "jetstream"`, 1)
	in = strings.Replace(in, `signing_key_file = "relay.key"`, `signing_key_file = "relay.key"

[relay.jetstream]
urls = ["nats://127.0.0.1:4222", "tls://nats2.example.org:4222"]`, 1)
	c, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("a jetstream store needs no spool file: %v", err)
	}
	j := c.Relay.JetStream
	if c.Relay.Store != StoreJetStream || j.Name != "reportline" || j.Replicas != 3 || j.AckWait.Duration < 30*time.Second || len(j.URLs) != 2 {
		t.Fatalf("jetstream defaults: %+v", j)
	}
	tests := []edit{
		{"unknown store", `store = "jetstream"`, `store = "redis"`, `relay.store: "redis" is not a store`},
		{"no urls", `urls = ["nats://127.0.0.1:4222", "tls://nats2.example.org:4222"]`, `urls = []`, `relay.jetstream.urls: missing`},
		{"bad url", `"nats://127.0.0.1:4222"`, `"http://127.0.0.1:4222"`, `relay.jetstream.urls: "http://127.0.0.1:4222" is not a NATS server URL`},
		{"bad name", `[relay.jetstream]`, "[relay.jetstream]\nname = \"a.b\"", `relay.jetstream.name: "a.b"`},
		{"two replicas", `[relay.jetstream]`, "[relay.jetstream]\nreplicas = 2", `relay.jetstream.replicas: 2`},
		{"short ack wait", `[relay.jetstream]`, "[relay.jetstream]\nack_wait = \"1s\"", `relay.jetstream.ack_wait`},
		{"cert alone", `[relay.jetstream]`, "[relay.jetstream]\ncert_file = \"/dev/null\"", `relay.jetstream.cert_file: set cert_file and key_file together`},
		{"missing creds", `[relay.jetstream]`, "[relay.jetstream]\ncreds_file = \"/no/such/file.creds\"", `relay.jetstream.creds_file`},
	}
	checkEdits(t, in, tests)
	bbolt := strings.Replace(in, `store = "jetstream"`, `store = "bbolt"`, 1)
	if _, err := Parse([]byte(bbolt)); err == nil || !strings.Contains(err.Error(), "relay.spool: missing") {
		t.Fatalf("bbolt without a spool: %v", err)
	}
}

// Where the reports are on the cluster, the mailboxes must be too: a file
// on one relay has neither the cluster's durability nor its reach; and
// the cluster's mailboxes need the cluster.
func TestMailboxFollowsStore(t *testing.T) {
	js := strings.Replace(validTOML(t), `spool = "data/spool.db"`, `store = "jetstream"
mailbox = "jetstream"`, 1)
	js = strings.Replace(js, `signing_key_file = "relay.key"`, `signing_key_file = "relay.key"

[relay.jetstream]
urls = ["nats://127.0.0.1:4222"]`, 1)
	if c, err := Parse([]byte(js)); err != nil || c.Relay.Mailbox != MailboxJetStream {
		t.Fatalf("mailboxes on the cluster: %v", err)
	}
	bbolt := strings.Replace(validTOML(t), `spool = "data/spool.db"`, `spool = "data/spool.db"
mailbox = "data/mailbox.db"`, 1)
	if _, err := Parse([]byte(bbolt)); err != nil {
		t.Fatalf("a mailbox file beside the spool: %v", err)
	}
	checkEdits(t, js, []edit{
		{"file on a cluster", `mailbox = "jetstream"`, `mailbox = "data/mailbox.db"`,
			`relay.mailbox: "data/mailbox.db" is a file on this relay alone, but relay.store = "jetstream"`},
	})
	checkEdits(t, bbolt, []edit{
		{"cluster without one", `mailbox = "data/mailbox.db"`, `mailbox = "jetstream"`,
			`relay.mailbox: "jetstream" keeps the mailboxes on the NATS cluster, which needs relay.store = "jetstream"`},
	})
}

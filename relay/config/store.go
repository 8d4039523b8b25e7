package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"
)

// The stores the relay can keep its reports in (relay.store).
const (
	// StoreBbolt is the embedded spool file: one relay, one disk.
	StoreBbolt = "bbolt"
	// StoreJetStream is a replicated NATS JetStream stream shared by
	// several relays; see docs/scaling.md.
	StoreJetStream = "jetstream"
	// MailboxJetStream, as relay.mailbox, keeps the follow-up mailboxes
	// on the NATS cluster of relay.store = "jetstream".
	MailboxJetStream = "jetstream"
)

// JetStream holds how to reach the NATS cluster that stores reports, the
// [relay.jetstream] table; it is read only with relay.store = "jetstream".
type JetStream struct {
	// URLs are the cluster's servers, like "nats://10.0.0.1:4222" or
	// "tls://nats1.example.org:4222"; the client fails over between them.
	URLs []string `toml:"urls"`
	// Name prefixes the streams, consumer and buckets, so several
	// relay deployments can share one cluster.
	Name string `toml:"name"`
	// Replicas is how many servers hold each stream: 3 survives the loss
	// of one.
	Replicas int `toml:"replicas"`
	// AckWait is how long a report handed to a relay that stopped
	// answering stays with it before another relay gets it.
	AckWait Duration `toml:"ack_wait"`
	// CredsFile is a NATS credentials file (user JWT and seed).
	CredsFile string `toml:"creds_file"`
	// CAFile, CertFile and KeyFile are PEM files for TLS to the servers:
	// the CAs that sign their certificates, and a client certificate.
	CAFile   string `toml:"ca_file"`
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

var jsNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func (c *Config) storeDefaults() {
	r := &c.Relay
	if r.Store == "" {
		r.Store = StoreBbolt
	}
	j := &r.JetStream
	if j.Name == "" {
		j.Name = "reportline"
	}
	if j.Replicas == 0 {
		j.Replicas = 3
	}
	if j.AckWait.Duration == 0 {
		j.AckWait.Duration = max(30*time.Second, 2*r.DeliveryTimeout.Duration)
	}
}

// validateStore checks relay.store, [relay.jetstream] and where
// relay.mailbox keeps the mailboxes.
func (c *Config) validateStore(bad func(key, format string, args ...any)) {
	r := &c.Relay
	switch {
	case r.Mailbox == MailboxJetStream && r.Store != StoreJetStream:
		bad("relay.mailbox", "%q keeps the mailboxes on the NATS cluster, which needs relay.store = %q; "+
			"with relay.store = %q, give the path of a file, like \"data/mailbox.db\"", r.Mailbox, StoreJetStream, r.Store)
	case r.Mailbox != "" && r.Mailbox != MailboxJetStream && r.Store == StoreJetStream:
		bad("relay.mailbox", "%q is a file on this relay alone, but relay.store = %q: replies must be kept as reports are, "+
			"replicated on the cluster and reachable from every relay; set relay.mailbox = %q", r.Mailbox, StoreJetStream, MailboxJetStream)
	}
	switch r.Store {
	case StoreBbolt:
		if r.Spool == "" {
			bad("relay.spool", "missing: set a file path for the durable report store")
		}
		return
	case StoreJetStream:
	default:
		bad("relay.store", "%q is not a store: use %q (one relay, a local file) or %q (several relays on a NATS cluster)", r.Store, StoreBbolt, StoreJetStream)
		return
	}
	j := &r.JetStream
	if len(j.URLs) == 0 {
		bad("relay.jetstream.urls", "missing: list the NATS servers, like [\"nats://10.0.0.1:4222\", \"nats://10.0.0.2:4222\", \"nats://10.0.0.3:4222\"]")
	}
	for _, u := range j.URLs {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls") {
			bad("relay.jetstream.urls", "%q is not a NATS server URL: write nats://HOST:PORT or tls://HOST:PORT", u)
		}
	}
	if !jsNamePattern.MatchString(j.Name) {
		bad("relay.jetstream.name", "%q: use 1 to 32 letters, digits, '-' or '_'", j.Name)
	}
	if j.Replicas != 1 && j.Replicas != 3 && j.Replicas != 5 {
		bad("relay.jetstream.replicas", "%d: use 3 (survives the loss of one server), 5, or 1 for a test", j.Replicas)
	}
	if j.AckWait.Duration < 5*time.Second || j.AckWait.Duration < r.DeliveryTimeout.Duration {
		bad("relay.jetstream.ack_wait", "%v: at least 5s and at least relay.delivery_timeout (%v)", j.AckWait.Duration, r.DeliveryTimeout.Duration)
	}
	if (j.CertFile == "") != (j.KeyFile == "") {
		bad("relay.jetstream.cert_file", "set cert_file and key_file together, or neither")
	}
	for key, f := range map[string]string{"creds_file": j.CredsFile, "ca_file": j.CAFile, "cert_file": j.CertFile, "key_file": j.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			bad("relay.jetstream."+key, "%v", err)
		}
	}
}

// StoreName says where reports are kept, for logs and errors.
func (r *Relay) StoreName() string {
	if r.Store == StoreJetStream {
		return fmt.Sprintf("jetstream %s (%d replicas)", r.JetStream.Name, r.JetStream.Replicas)
	}
	return "bbolt " + r.Spool
}

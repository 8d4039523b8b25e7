package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/reportline/reportline/relay"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/mailbox"
	"github.com/reportline/reportline/relay/natsstore"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
)

// openedStore is the relay's report store and, on a cluster, the proof
// state every relay shares.
type openedStore struct {
	store.Store
	proofs  *natsstore.Proofs // nil with bbolt
	nc      *nats.Conn
	mailbox *mailbox.Store // the bbolt mailbox file, once opened
}

// mailboxStore is where the relay keeps the follow-up mailboxes.
type mailboxStore interface {
	relay.Mailboxes
	Sweep(now time.Time) (int, error)
}

// openMailboxes opens the mailboxes relay.mailbox names: a bbolt file, or
// buckets on the cluster the reports are on (check-config allows no other
// pairing); Close closes them.
func (o *openedStore) openMailboxes(cfg *config.Config, log *slog.Logger) (mailboxStore, error) {
	r := &cfg.Relay
	if r.Mailbox != config.MailboxJetStream {
		mb, err := mailbox.Open(r.Mailbox, r.MailboxRetention.Duration)
		if err != nil {
			return nil, stateFileHint(err, "relay.mailbox", r.Mailbox)
		}
		o.mailbox = mb
		return mb, nil
	}
	if o.nc == nil {
		return nil, errors.New(`relay.mailbox = "jetstream" needs relay.store = "jetstream"`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j := &r.JetStream
	return openJetStreamMailboxes(ctx, o.nc, natsstore.Options{Name: j.Name, Replicas: j.Replicas}, r.MailboxRetention.Duration, log)
}

func (o *openedStore) Close() error {
	if o.mailbox != nil {
		o.mailbox.Close()
	}
	err := o.Store.Close()
	if o.nc != nil {
		o.nc.Drain()
	}
	return err
}

// openStore opens the store relay.store names.
func openStore(cfg *config.Config, log *slog.Logger) (*openedStore, error) {
	r := &cfg.Relay
	if r.Store != config.StoreJetStream {
		sp, err := spool.Open(r.Spool)
		if err != nil {
			return nil, stateFileHint(err, "relay.spool", r.Spool)
		}
		if err := sp.CompactAtOpenErr(); err != nil {
			log.Warn("the spool file, mostly free space, was not compacted at start; it is used as it is: make room and run relay spool compact", "err", err)
		}
		return &openedStore{Store: sp}, nil
	}
	j := &r.JetStream
	nc, err := natsstore.Connect(natsstore.Conn{URLs: j.URLs, CredsFile: j.CredsFile, CAFile: j.CAFile,
		CertFile: j.CertFile, KeyFile: j.KeyFile, Log: log})
	if err != nil {
		return nil, hint{err, "check relay.jetstream.urls and that the NATS servers run (docs/scaling.md)"}
	}
	o := natsstore.Options{Name: j.Name, Replicas: j.Replicas, AckWait: j.AckWait.Duration, Log: log}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := openJetStream(ctx, nc, o, log)
	if err != nil {
		nc.Close()
		return nil, hint{err, "the NATS servers must run with JetStream on, as a cluster of at least relay.jetstream.replicas servers (docs/scaling.md)"}
	}
	proofs, err := openJetStreamProofs(ctx, nc, o, r.PoW.Expiry.Duration, log)
	if err != nil {
		st.Close()
		nc.Close()
		return nil, err
	}
	return &openedStore{Store: st, proofs: proofs, nc: nc}, nil
}

// openTry bounds one try of natsstore.Open.
const openTry = 10 * time.Second

// The JetStream API's answers while a cluster forms or elects its leaders.
const (
	errCodeNoPeers      jetstream.ErrorCode = 10005 // no suitable peers for placement: fewer servers known than replicas
	errCodeClusterNotUp jetstream.ErrorCode = 10008 // JetStream system temporarily unavailable
)

// openJetStream opens the JetStream store, and tries again while the
// cluster is not ready, until ctx ends. A cluster that has just started
// knows too few servers to place replicated streams yet; right after a
// server restarts, the cluster elects its leaders, and a request made
// meanwhile may get no answer at all. Open makes nothing twice, so trying
// again is safe.
func openJetStream(ctx context.Context, nc *nats.Conn, o natsstore.Options, log *slog.Logger) (*natsstore.Store, error) {
	return whileForming(ctx, log, func(ctx context.Context) (*natsstore.Store, error) { return natsstore.Open(ctx, nc, o) })
}

// openJetStreamProofs opens the shared proof-of-work buckets as
// openJetStream opens the store: the cluster that just placed the store's
// streams may still lose a server for a moment ("peer offline").
func openJetStreamProofs(ctx context.Context, nc *nats.Conn, o natsstore.Options, ttl time.Duration, log *slog.Logger) (*natsstore.Proofs, error) {
	return whileForming(ctx, log, func(ctx context.Context) (*natsstore.Proofs, error) { return natsstore.OpenProofs(ctx, nc, o, ttl) })
}

// openJetStreamMailboxes opens the shared mailboxes as openJetStream
// opens the store.
func openJetStreamMailboxes(ctx context.Context, nc *nats.Conn, o natsstore.Options, retention time.Duration, log *slog.Logger) (*natsstore.Mailboxes, error) {
	return whileForming(ctx, log, func(ctx context.Context) (*natsstore.Mailboxes, error) {
		return natsstore.OpenMailboxes(ctx, nc, o, retention)
	})
}

// whileForming runs open, and again while the cluster is not ready,
// until ctx ends; each try is bounded by openTry. What it opens must make
// nothing twice when run again.
func whileForming[T any](ctx context.Context, log *slog.Logger, open func(context.Context) (T, error)) (T, error) {
	for {
		tctx, cancel := context.WithTimeout(ctx, openTry)
		v, err := open(tctx)
		timedOut := tctx.Err() != nil
		cancel()
		if err == nil || !(timedOut || clusterNotReady(err)) || ctx.Err() != nil {
			return v, err
		}
		log.Warn("the NATS cluster is not ready; trying again", "err", err)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(time.Second):
		}
	}
}

// clusterNotReady reports whether err is the JetStream API's answer of a
// cluster that is still forming or electing its leaders.
func clusterNotReady(err error) bool {
	var api jetstream.JetStreamError
	if !errors.As(err, &api) || api.APIError() == nil {
		return false
	}
	code := api.APIError().ErrorCode
	return code == errCodeNoPeers || code == errCodeClusterNotUp
}

// Corrupt returns the records a bbolt spool passed over because they no
// longer decode ([spool.Spool.Corrupt]); other stores have none.
func (o *openedStore) Corrupt() map[string]string {
	if c, ok := o.Store.(store.CorruptLister); ok {
		return c.Corrupt()
	}
	return nil
}

// PurgeCorrupt removes a record a bbolt spool cannot read
// ([spool.Spool.PurgeCorrupt]); other stores have none, so a report they
// cannot read is not one this removes.
func (o *openedStore) PurgeCorrupt(id string) (spool.CorruptPurge, error) {
	if c, ok := o.Store.(store.CorruptPurger); ok {
		return c.PurgeCorrupt(id)
	}
	return spool.CorruptPurge{}, fmt.Errorf("purge corrupt report %s: %w", id, errNoCorruptPurge)
}

// Compact compacts a bbolt spool; other stores have no file to compact.
func (o *openedStore) Compact() (before, after int64, err error) {
	if c, ok := o.Store.(store.Compactor); ok {
		return c.Compact()
	}
	return 0, 0, errNoCompact
}

// stateFileHint adds what to do to an error from opening the relay's
// file at path (spool.Open, mailbox.Open), which key names.
func stateFileHint(err error, key, path string) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, spool.ErrLocked) || errors.Is(err, mailbox.ErrLocked):
		return hint{err, "another relay is running with this file; stop it first, or give this one its own " + key}
	case errors.Is(err, spool.ErrDamaged):
		return hint{err, fmt.Sprintf("keep the file for the record and start on a new one: mv %s %s.damaged; "+
			"the reports it held are lost to the relay, see docs/deployment.md#a-damaged-spool", path, path)}
	case errors.Is(err, mailbox.ErrDamaged):
		return hint{err, fmt.Sprintf("keep the file for the record and start on a new one: mv %s %s.damaged; "+
			"the replies it held are lost to the relay: the hotline can post them again with hotline reply (docs/deployment.md#a-damaged-spool)", path, path)}
	case errors.Is(err, syscall.ENOSPC):
		return hint{err, fmt.Sprintf("the disk holding %s is full: make room on it and try again; "+
			"nothing the file holds is lost (opening may write: a new file, or an older spool's indexes rewritten "+
			"in the current format; see docs/deployment.md)", key)}
	case errors.As(err, &pe):
		return hint{err, key + " must name a file in a folder the relay can make and that is writable to it " +
			"(under systemd, /var/lib/reportline-relay, its StateDirectory; see docs/deployment.md)"}
	}
	return err
}

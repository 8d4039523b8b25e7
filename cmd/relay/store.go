package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/natsstore"
	"github.com/reportline/reportline/relay/spool"
	"github.com/reportline/reportline/relay/store"
)

// openedStore is the relay's report store and, on a cluster, the proof
// state every relay shares.
type openedStore struct {
	store.Store
	proofs *natsstore.Proofs // nil with bbolt
	nc     *nats.Conn
}

func (o *openedStore) Close() error {
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
		if errors.Is(err, spool.ErrLocked) {
			return nil, hint{err, "another relay is running with this spool; stop it first, or give this one its own relay.spool"}
		}
		if err != nil {
			return nil, err
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := natsstore.Open(ctx, nc, o)
	if err != nil {
		nc.Close()
		return nil, hint{err, "the NATS servers must run with JetStream on, as a cluster of at least relay.jetstream.replicas servers (docs/scaling.md)"}
	}
	proofs, err := natsstore.OpenProofs(ctx, nc, o, r.PoW.Expiry.Duration)
	if err != nil {
		st.Close()
		nc.Close()
		return nil, err
	}
	return &openedStore{Store: st, proofs: proofs, nc: nc}, nil
}

// Compact compacts a bbolt spool; other stores have no file to compact.
func (o *openedStore) Compact() (before, after int64, err error) {
	if c, ok := o.Store.(store.Compactor); ok {
		return c.Compact()
	}
	return 0, 0, errNoCompact
}

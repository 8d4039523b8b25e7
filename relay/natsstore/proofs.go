package natsstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/reportline/reportline/pow"
)

// Proofs shares the proof-of-work state of every relay on one cluster:
// the key that signs challenges, so that a challenge from one relay is
// good at another, and the spent proofs, so that a proof admits one
// report in the whole cluster rather than one per relay.
//
// The spent proofs are in the bucket N_proofs, a proof's hex id → the
// report id it admitted, kept for the proofs' lifetime; the key is in
// N_powkey. Each relay still holds a proof in use in its own memory (see
// [pow.ReplayStore.Reserve]).
type Proofs struct {
	spent   jetstream.KeyValue
	keys    jetstream.KeyValue
	timeout time.Duration
}

// OpenProofs makes the buckets if needed; ttl is how long a proof stays
// valid (relay.pow.expiry), after which its record may go.
func OpenProofs(ctx context.Context, nc *nats.Conn, o Options, ttl time.Duration) (*Proofs, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("open shared proofs: %w", err)
	}
	o.defaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open shared proofs: %w", err)
	}
	spent, err := bucket(ctx, js, o, "_proofs", "spent proofs of work: proof id to report id", ttl+time.Minute)
	if err != nil {
		return nil, fmt.Errorf("open shared proofs: %w", err)
	}
	keys, err := bucket(ctx, js, o, "_powkey", "the key that signs proof-of-work challenges", 0)
	if err != nil {
		return nil, fmt.Errorf("open shared proofs: %w", err)
	}
	return &Proofs{spent: spent, keys: keys, timeout: o.Timeout}, nil
}

// bucket makes (or updates to o) the key-value bucket named o.Name+suffix,
// on disk, replicated as o says, one value per key, values kept for ttl
// (0: for ever).
func bucket(ctx context.Context, js jetstream.JetStream, o Options, suffix, description string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: o.Name + suffix, Description: description,
		TTL: ttl, Storage: jetstream.FileStorage, Replicas: o.Replicas, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s%s: %w", o.Name, suffix, err)
	}
	return kv, nil
}

// Key returns the cluster's challenge key, making it if no relay has.
func (p *Proofs) Key() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	k := make([]byte, 32)
	rand.Read(k)
	v := []byte(hex.EncodeToString(k))
	if _, err := p.keys.Create(ctx, "challenge", v); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("make the shared challenge key: %w", err)
	}
	e, err := p.keys.Get(ctx, "challenge")
	if err != nil {
		return nil, fmt.Errorf("read the shared challenge key: %w", err)
	}
	return e.Value(), nil
}

// Spend spends the proof on the report: it returns nil if the proof is
// new or was spent on this report before, and [pow.ErrReplayed] if it was
// spent on another report, at this relay or another.
func (p *Proofs) Spend(pr pow.Proof, report string) error {
	key := hex.EncodeToString(pr.ID[:])
	err := retry(p.timeout, func(ctx context.Context) error {
		_, err := p.spent.Create(ctx, key, []byte(report))
		return err
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("spend proof of work: %w", err)
	}
	var e jetstream.KeyValueEntry
	err = retry(p.timeout, func(ctx context.Context) (err error) { e, err = p.spent.Get(ctx, key); return err })
	if err != nil {
		return fmt.Errorf("spend proof of work: %w", err)
	}
	if string(e.Value()) != report {
		return pow.ErrReplayed
	}
	return nil
}

package relay

import (
	"context"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/relay/natsstore"
)

// BenchmarkAcceptLoadJetStream is BenchmarkAcceptLoad with the reports in
// JetStream, as several relays keep them (docs/scaling.md): three
// in-process servers on loopback, every write fsynced (sync_interval
// always), the stream replicated three times, and each proof spent in
// the shared bucket. A 202 waits for two of the three replicas. Its
// ratios to the no-op handler sit beside the bbolt spool's in the
// summary of make bench.
func BenchmarkAcceptLoadJetStream(b *testing.B) {
	c := natstest.Start(b, 3)
	nc, err := natsstore.Connect(natsstore.Conn{URLs: c.URLs()})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := natsstore.Options{Replicas: 3}
	st, err := natsstore.Open(ctx, nc, o)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	proofs, err := natsstore.OpenProofs(ctx, nc, o, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	key, err := proofs.Key()
	if err != nil {
		b.Fatal(err)
	}
	acceptLoad(b, st, func(s *Server) {
		if err := s.ShareProofs(key, proofs); err != nil {
			b.Fatal(err)
		}
	})
}

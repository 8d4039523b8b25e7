package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/relay/natsstore"
)

// signalWriter sends each log line on c, without waiting.
type signalWriter chan string

func (c signalWriter) Write(p []byte) (int, error) {
	select {
	case c <- string(p):
	default:
	}
	return len(p), nil
}

// TestOpenWaitsForTheCluster: a relay that starts before the third server
// of its cluster has ever joined cannot place its three replicas yet ("no
// suitable peers for placement"), and the mailboxes' and the proofs'
// buckets meet the same (or a server a loaded machine let fall behind:
// "peer offline"). Each is tried again, and opens once the server is up,
// instead of the relay exiting.
func TestOpenWaitsForTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS clusters")
	}
	for name, open := range map[string]func(ctx context.Context, nc *nats.Conn, o natsstore.Options, log *slog.Logger) error{
		"store": func(ctx context.Context, nc *nats.Conn, o natsstore.Options, log *slog.Logger) error {
			st, err := openJetStream(ctx, nc, o, log)
			if err == nil {
				st.Close()
			}
			return err
		},
		"mailboxes": func(ctx context.Context, nc *nats.Conn, o natsstore.Options, log *slog.Logger) error {
			_, err := openJetStreamMailboxes(ctx, nc, o, time.Hour, log)
			return err
		},
		"proofs": func(ctx context.Context, nc *nats.Conn, o natsstore.Options, log *slog.Logger) error {
			_, err := openJetStreamProofs(ctx, nc, o, time.Minute, log)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := natstest.StartWithout(t, 3, 2)
			nc, err := natsstore.Connect(natsstore.Conn{URLs: c.URLs()[:2]})
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			warned := make(signalWriter, 1)
			log := slog.New(slog.NewTextHandler(warned, &slog.HandlerOptions{Level: slog.LevelWarn}))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- open(ctx, nc, natsstore.Options{Name: "t", Replicas: 3}, log) }()
			select {
			case line := <-warned:
				t.Logf("the relay logged: %s", line)
			case err := <-done:
				t.Fatalf("with one server of three down, the %s opened or failed (%v) without trying again", name, err)
			}
			c.Restart(2)
			if err := <-done; err != nil {
				t.Fatalf("after the server came back: %v", err)
			}
		})
	}
}

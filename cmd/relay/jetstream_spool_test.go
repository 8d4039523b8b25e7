package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/natstest"
	"github.com/reportline/reportline/relay/natsstore"
	"github.com/reportline/reportline/relay/spool"
)

// TestSpoolCommandsOnJetStream: `relay spool ls|retry|purge` work on the
// cluster directly, whichever relays run, and never print a body;
// compact says it has nothing to do.
func TestSpoolCommandsOnJetStream(t *testing.T) {
	nc := natstest.Start(t, 1)
	s := newSetup(t)
	s.write(t, fmt.Sprintf("store = \"jetstream\"\n[relay.jetstream]\nurls = [%q]\nreplicas = 1", nc.URLs()[0]), `color = "#000000"`)

	conn, err := natsstore.Connect(natsstore.Conn{URLs: nc.URLs()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := natsstore.Open(ctx, conn, natsstore.Options{Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const pending, dead = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", "4f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	for _, id := range []string{pending, dead} {
		if _, _, err := st.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Body: []byte("SECRET-BODY-" + id)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Bury(dead, "intake answered 410 Gone"); err != nil {
		t.Fatal(err)
	}
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := spoolCommand(&out, append(args, "-config", s.cfgPath))
		return out.String(), err
	}
	out, err := do("ls")
	if err != nil || !strings.Contains(out, pending) || !strings.Contains(out, dead) || !strings.Contains(out, "1 pending, 1 dead") ||
		!strings.Contains(out, "intake answered 410 Gone") || strings.Contains(out, "SECRET-BODY") {
		t.Fatalf("ls: %v\n%s", err, out)
	}
	if _, err := do("purge", pending, "--yes"); !errors.Is(err, errNotDead) {
		t.Errorf("purge of a pending report: %v", err)
	}
	if out, err := do("retry", pending); err != nil || !strings.Contains(out, "pending, due now") {
		t.Errorf("retry pending: %v %s", err, out)
	}
	if e, err := st.Get(pending); err != nil || e.Attempts != 1 || e.NextAttempt.After(time.Now()) {
		t.Errorf("after retry of a pending report: %+v %v", e, err)
	}
	if out, err := do("retry", dead); err != nil || !strings.Contains(out, "pending, due now") {
		t.Errorf("retry dead: %v %s", err, out)
	}
	if out, _ := do("ls"); !strings.Contains(out, "2 pending, 0 dead") {
		t.Errorf("after retry:\n%s", out)
	}
	if err := st.Bury(dead, "undeliverable"); err != nil {
		t.Fatal(err)
	}
	if out, err := do("purge", dead, "--yes"); err != nil || !strings.Contains(out, "purged") {
		t.Errorf("purge --yes: %v %s", err, out)
	}
	if out, _ := do("ls"); !strings.Contains(out, "1 pending, 0 dead") {
		t.Errorf("after purge:\n%s", out)
	}
	if _, err := do("retry", "5f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"); !errors.Is(err, spool.ErrNotFound) {
		t.Errorf("retry of an unknown report: %v", err)
	}
	if _, err := do("compact"); !errors.Is(err, errNoCompact) {
		t.Errorf("compact on jetstream: %v", err)
	}
}

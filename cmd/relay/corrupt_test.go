package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/reportline/reportline/relay/spool"
)

// TestCorruptRecordDoesNotStopDelivery: a report whose record in the
// spool no longer passes its checksum (a disk that flipped a bit) is set
// aside and named, with what to do, while the other reports are
// delivered; relay spool ls lists it instead of failing.
func TestCorruptRecordDoesNotStopDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the relay and the intake")
	}
	c := newCrashLoop(t)
	path := filepath.Join(c.s.dir, "spool.db")
	sp, err := spool.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	bad, good := uuid.NewString(), uuid.NewString()
	for _, id := range []string{bad, good} { // bad first: it falls due first
		if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Body: c.seal(id, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("entries"))
		v := append([]byte(nil), b.Get([]byte(bad))...)
		v[len(v)/2] ^= 0xff
		return b.Put([]byte(bad), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	c.startIntake()
	c.startRelay()
	c.waitReady()
	c.relay.waitUntil(t, "the other report delivered", func() bool { return c.delivered()[good] })
	c.relay.waitUntil(t, "the corrupt record named in the log", func() bool {
		log := c.relay.out.String()
		return strings.Contains(log, bad) && strings.Contains(log, "corrupt")
	})
	if !strings.Contains(c.relay.out.String(), "docs/deployment.md") {
		t.Errorf("the log does not say where to read what to do:\n%s", c.relay.out)
	}
	out, err := exec.Command(c.relayBin, "spool", "ls", "-config", c.s.cfgPath).CombinedOutput()
	if err != nil || !strings.Contains(string(out), bad) || !strings.Contains(string(out), "corrupt") {
		t.Errorf("relay spool ls: %v\n%s\nwant the corrupt record listed", err, out)
	}
}

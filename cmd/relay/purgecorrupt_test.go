package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/reportline/reportline/relay/spool"
)

// Reports for the tests of purging a corrupt record: one whose record a
// disk damaged, and one pending that stays sound.
const (
	corruptID = "6f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	soundID   = "7f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
)

// spoolWithCorruptRecord writes a spool file at path holding the two
// reports, and flips a byte in the middle of corruptID's record, the way
// TestCorruptRecordDoesNotStopDelivery does.
func spoolWithCorruptRecord(t *testing.T, path string) {
	t.Helper()
	sp, err := spool.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{corruptID, soundID} {
		if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Body: []byte("SECRET-BODY-" + id)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("entries"))
		v := bytes.Clone(b.Get([]byte(corruptID)))
		v[len(v)/2] ^= 0xff
		return b.Put([]byte(corruptID), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkNothingDangling reads the spool file at path as it is on disk and
// fails unless the records left are exactly want (pending, all sound),
// every index key names one of them, and there are as many bodies as
// records.
func checkNothingDangling(t *testing.T, path string, want ...string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var records []string
		for _, name := range []string{"entries", "dead"} {
			tx.Bucket([]byte(name)).ForEach(func(k, _ []byte) error {
				records = append(records, string(k))
				return nil
			})
		}
		if fmt.Sprint(records) != fmt.Sprint(want) {
			return fmt.Errorf("records %v, want %v", records, want)
		}
		for _, name := range []string{"due", "received", "retry", "urgent"} {
			err := tx.Bucket([]byte(name)).ForEach(func(k, _ []byte) error {
				// An index key: 8 bytes of time, 8 of body number, the id.
				if len(k) <= 16 || tx.Bucket([]byte("entries")).Get(k[16:]) == nil {
					return fmt.Errorf("index %s has key %x, which names no pending report", name, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if n := tx.Bucket([]byte("bodies")).Stats().KeyN; n != len(want) {
			return fmt.Errorf("%d bodies for %d records", n, len(want))
		}
		return nil
	})
	if err != nil {
		t.Errorf("spool file after the purge: %v", err)
	}
}

// TestPurgeCorruptRecord: `relay spool purge ID --yes` removes a report
// whose record is corrupt, on the spool file, and says what it removed;
// without --yes it says what purging it means; a sound pending report is
// still refused.
func TestPurgeCorruptRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	spoolWithCorruptRecord(t, path)
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := spoolCommand(&out, append(args, "-spool", path))
		return out.String(), err
	}
	if out, err := do("ls"); err != nil || !strings.Contains(out, corruptID) || !strings.Contains(out, "1 corrupt") {
		t.Fatalf("ls: %v\n%s", err, out)
	}
	out, err := do("purge", corruptID)
	var h hint
	if !errors.As(err, &h) || !strings.Contains(err.Error(), "for good") || !strings.Contains(h.hint, "--yes") ||
		!strings.Contains(out, "corrupt") {
		t.Errorf("purge of a corrupt record without --yes: %v (hint %q)\n%s", err, h.hint, out)
	}
	if _, err := do("purge", soundID, "--yes"); !errors.Is(err, errNotDead) {
		t.Errorf("purge of a sound pending report: %v", err)
	}
	out, err = do("purge", corruptID, "--yes")
	if err != nil || !strings.Contains(out, corruptID+": corrupt record purged") ||
		!strings.Contains(out, "2 index keys") || !strings.Contains(out, "its body") {
		t.Errorf("purge --yes of a corrupt record: %v\n%s", err, out)
	}
	if out, err := do("ls"); err != nil || strings.Contains(out, corruptID) || !strings.Contains(out, "1 pending, 0 dead") ||
		strings.Contains(out, "corrupt") {
		t.Errorf("ls after the purge: %v\n%s", err, out)
	}
	checkNothingDangling(t, path, soundID)
}

// TestPurgeCorruptRecordWhileRunning: the same through a running relay's
// admin socket, which the relay's own spool answers.
func TestPurgeCorruptRecordWhileRunning(t *testing.T) {
	s := newSetup(t)
	socket := filepath.Join(s.dir, "admin.sock")
	s.write(t, fmt.Sprintf("admin_socket = %q", socket), "")
	path := filepath.Join(s.dir, "spool.db")
	spoolWithCorruptRecord(t, path)
	r := start(t, s)
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := spoolCommand(&out, append(args, "-config", s.cfgPath))
		return out.String(), err
	}
	if out, err := do("ls"); err != nil || !strings.Contains(out, corruptID) || !strings.Contains(out, "1 corrupt") {
		t.Fatalf("ls through the socket: %v\n%s", err, out)
	}
	if _, err := do("purge", soundID, "--yes"); !errors.Is(err, errNotDead) {
		t.Errorf("purge of a sound pending report through the socket: %v", err)
	}
	out, err := do("purge", corruptID, "--yes")
	if err != nil || !strings.Contains(out, corruptID+": corrupt record purged") || !strings.Contains(out, "its body") {
		t.Errorf("purge --yes of a corrupt record through the socket: %v\n%s", err, out)
	}
	if out, err := do("ls"); err != nil || strings.Contains(out, corruptID) || !strings.Contains(out, "1 pending, 0 dead") {
		t.Errorf("ls through the socket after the purge: %v\n%s", err, out)
	}
	if !strings.Contains(r.logs.String(), "operator purged a corrupt record") {
		t.Errorf("the relay did not log the purge:\n%s", r.logs)
	}
	r.stop(t)
	checkNothingDangling(t, path, soundID)
}

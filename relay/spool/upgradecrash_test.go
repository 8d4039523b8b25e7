package spool

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The upgrade crash test re-executes the test binary: the child opens the
// spool of format 2 named by upgradeCrashEnv, which rewrites its indexes
// in one transaction, and is killed by the parent as soon as that
// transaction starts writing to the file.
const (
	upgradeCrashEnv    = "SPOOL_UPGRADE_CRASH_PATH"
	upgradeCrashMarker = "SPOOL-UPGRADE-CHILD-OPENED"
)

// makeFormat2 stores n pending reports, of varied times, in a new spool
// at path, and leaves its indexes as a relay of format 2 wrote them.
func makeFormat2(t *testing.T, path string, n int) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			e := at(fmt.Sprintf("report-%06d", i), time.Duration(i%7)*time.Second)
			if i%5 == 0 {
				e.Urgent = true
			}
			e.NextAttempt, e.Received = e.Received, e.Received.Truncate(time.Second)
			ref, err := putBody(tx, e.Body)
			if err != nil {
				return err
			}
			e.bodyRef = ref
			if err := tx.Bucket(bucketEntries).Put([]byte(e.ID), encodeRecord(e)); err != nil {
				return err
			}
			if err := putOldIndexes(tx, e); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte(formatVersion2))
	}); err != nil {
		t.Fatal(err)
	}
}

// formatOf returns the format a spool file is marked with.
func formatOf(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketMeta).Get(keyFormat))
		return nil
	})
	return v
}

// TestUpgradeKilled kills a relay's spool while it upgrades a format 2
// file of many pending reports to format 3, as soon as the upgrade's one
// transaction starts writing to the file. The next open finds the file
// sound, as it was or as it became, upgrades it if it must, and lists
// every report, each once, with its body.
func TestUpgradeKilled(t *testing.T) {
	if path := os.Getenv(upgradeCrashEnv); path != "" {
		s, err := Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		fmt.Println(upgradeCrashMarker)
		bufio.NewReader(os.Stdin).ReadString('\n') // killed here, if not before
		s.Close()
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	const n = 30_000
	path := t.TempDir() + "/spool.db"
	makeFormat2(t, path, n)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestUpgradeKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), upgradeCrashEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	opened := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == upgradeCrashMarker {
				opened <- true
				return
			}
		}
		opened <- false
	}()
	// Kill the child once the upgrade writes to the file: its size or
	// time changes. Opening a file of the current format writes nothing.
	midway := false
	for !midway {
		select {
		case ok := <-opened:
			if !ok {
				cmd.Wait()
				t.Fatal("the child ended without opening the spool")
			}
			t.Log("the child opened the spool before it was seen writing: killed after the upgrade")
			midway = true
			continue
		case <-ctx.Done():
			t.Fatal("the child neither wrote to the spool nor opened it within two minutes")
		case <-time.After(time.Millisecond): // polling the file
		}
		st, err := os.Stat(path)
		midway = err == nil && (st.Size() != before.Size() || !st.ModTime().Equal(before.ModTime()))
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Logf("killed; the file is of format %s", formatOf(t, path))

	s := reopenUpgraded(t, path)
	due, err := s.Due(t0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range due {
		if seen[e.ID] {
			t.Errorf("%s listed twice", e.ID)
		}
		seen[e.ID] = true
	}
	if len(seen) != n {
		t.Errorf("%d reports due after the kill, want %d", len(seen), n)
	}
	if st, err := s.Stats(); err != nil || st.Pending != n {
		t.Errorf("Stats = %+v, %v; want %d pending", st, err, n)
	}
}

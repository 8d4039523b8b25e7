package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// t0 is a fixed, second-aligned time the tests count from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testEntry returns a valid entry whose body is derived from id.
func testEntry(id string) Entry {
	return Entry{
		ID:       id,
		Hotline:  "hl-test",
		Site:     "site-a",
		Received: t0,
		Body:     []byte("age-encryption.org/v1\n-> X25519 " + id + "\n--- ciphertext"),
	}
}

// at returns an entry due at t0+d.
func at(id string, d time.Duration) Entry {
	e := testEntry(id)
	e.NextAttempt = t0.Add(d)
	return e
}

// openTemp opens a spool in a fresh directory (below a missing parent, so Open
// has to create it) and closes it when the test ends.
func openTemp(t testing.TB) (*Spool, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "spool.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !s.closed.Load() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	return s, path
}

func mustPut(t testing.TB, s *Spool, entries ...Entry) {
	t.Helper()
	for _, e := range entries {
		if _, created, err := s.Put(e); err != nil || !created {
			t.Fatalf("Put(%s) = created %v, %v; want created", e.ID, created, err)
		}
	}
}

func mustBury(t testing.TB, s *Spool, id, reason string) {
	t.Helper()
	if err := s.Bury(id, reason); err != nil {
		t.Fatal(err)
	}
}

func ids(entries []Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

func sameEntry(a, b Entry) bool {
	return a.ID == b.ID && a.Hotline == b.Hotline && a.Site == b.Site &&
		a.Received.Equal(b.Received) && bytes.Equal(a.Body, b.Body) &&
		a.Attempts == b.Attempts && a.NextAttempt.Equal(b.NextAttempt) &&
		a.LastError == b.LastError && a.Dead == b.Dead && a.Urgent == b.Urgent
}

// checkInvariants verifies the storage layout the package documentation
// promises: every pending record has exactly one key in each index, every
// index key names a pending record, no id is both pending and dead, and
// every body kept apart belongs to exactly one record, pending or dead.
func checkInvariants(t testing.TB, s *Spool) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		entries, due, received, dead := tx.Bucket(bucketEntries), tx.Bucket(bucketDue), tx.Bucket(bucketReceived), tx.Bucket(bucketDead)
		retry, urgent, bodies := tx.Bucket(bucketRetry), tx.Bucket(bucketUrgent), tx.Bucket(bucketBodies)
		n, retries, urgents := 0, 0, 0
		named := map[uint64]string{} // body key → the record naming it
		nameBody := func(e Entry) error {
			if e.bodyRef == 0 {
				return nil
			}
			if other, ok := named[e.bodyRef]; ok {
				return fmt.Errorf("body %d named by both %s and %s", e.bodyRef, other, e.ID)
			}
			named[e.bodyRef] = e.ID
			if v := bodies.Get(bodyKey(e.bodyRef)); v == nil {
				return fmt.Errorf("%s: body %d missing", e.ID, e.bodyRef)
			} else if _, err := decodeBody(v); err != nil {
				return fmt.Errorf("%s: %w", e.ID, err)
			}
			return nil
		}
		err := entries.ForEach(func(k, v []byte) error {
			n++
			e, err := decodeRecord(v)
			if err != nil {
				return err
			}
			if err := nameBody(e); err != nil {
				return err
			}
			if e.ID != string(k) {
				return fmt.Errorf("record under %q has id %q", k, e.ID)
			}
			if due.Get(dueKey(e)) == nil {
				return fmt.Errorf("%s: missing due key", k)
			}
			if received.Get(receivedKey(e)) == nil {
				return fmt.Errorf("%s: missing received key", k)
			}
			if inRetry := retry.Get(dueKey(e)) != nil; inRetry != (e.Attempts > 0) {
				return fmt.Errorf("%s: %d attempts, retry key %v", k, e.Attempts, inRetry)
			}
			if e.Attempts > 0 {
				retries++
			}
			if inUrgent := urgent.Get(dueKey(e)) != nil; inUrgent != e.Urgent {
				return fmt.Errorf("%s: urgent %v, urgent key %v", k, e.Urgent, inUrgent)
			}
			if e.Urgent {
				urgents++
			}
			if dead.Get(k) != nil {
				return fmt.Errorf("%s: both pending and dead", k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, idx := range []*bolt.Bucket{due, received} {
			m := 0
			err := idx.ForEach(func(k, _ []byte) error {
				m++
				_, id, err := splitIndexKey(k)
				if err != nil {
					return err
				}
				if entries.Get([]byte(id)) == nil {
					return fmt.Errorf("index key %x names missing %s", k, id)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if m != n {
				return fmt.Errorf("index has %d keys for %d records", m, n)
			}
		}
		if m := retry.Stats().KeyN; m != retries {
			return fmt.Errorf("retry index has %d keys for %d reports that failed", m, retries)
		}
		if m := urgent.Stats().KeyN; m != urgents {
			return fmt.Errorf("urgent index has %d keys for %d urgent reports", m, urgents)
		}
		err = dead.ForEach(func(k, v []byte) error {
			e, err := decodeRecord(v)
			if err != nil {
				return err
			}
			return nameBody(e)
		})
		if err != nil {
			return err
		}
		if m := bodies.Stats().KeyN; m != len(named) {
			return fmt.Errorf("%d bodies kept apart for %d records naming one", m, len(named))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("spool invariant broken: %v", err)
	}
}

func TestPut(t *testing.T) {
	id64 := strings.Repeat("a", MaxIDLen)
	tests := []struct {
		name        string
		setup       func(t *testing.T, s *Spool)
		put         Entry
		wantCreated bool
		wantErr     error
		check       func(t *testing.T, got Entry)
	}{
		{
			name:        "new",
			put:         testEntry("r1"),
			wantCreated: true,
			check: func(t *testing.T, got Entry) {
				want := testEntry("r1")
				want.NextAttempt = want.Received
				if !sameEntry(got, want) {
					t.Errorf("stored %+v, want %+v", got, want)
				}
			},
		},
		{
			name:  "retry returns the existing entry",
			setup: func(t *testing.T, s *Spool) { mustPut(t, s, testEntry("r1")) },
			put: func() Entry {
				e := testEntry("r1")
				e.Received = t0.Add(time.Hour) // a retry arrives later
				return e
			}(),
			wantCreated: false,
			check: func(t *testing.T, got Entry) {
				if !got.Received.Equal(t0) {
					t.Errorf("Received = %v, want the original %v", got.Received, t0)
				}
			},
		},
		{
			name: "retry of a rescheduled entry keeps its progress",
			setup: func(t *testing.T, s *Spool) {
				mustPut(t, s, testEntry("r1"))
				if err := s.Reschedule("r1", t0.Add(time.Minute), "503"); err != nil {
					t.Fatal(err)
				}
			},
			put: testEntry("r1"),
			check: func(t *testing.T, got Entry) {
				if got.Attempts != 1 || got.LastError != "503" || !got.NextAttempt.Equal(t0.Add(time.Minute)) {
					t.Errorf("stored %+v, want the rescheduled entry", got)
				}
			},
		},
		{
			name: "retry of a dead entry",
			setup: func(t *testing.T, s *Spool) {
				mustPut(t, s, testEntry("r1"))
				mustBury(t, s, "r1", "410 gone")
			},
			put: testEntry("r1"),
			check: func(t *testing.T, got Entry) {
				if !got.Dead || got.LastError != "410 gone" {
					t.Errorf("stored %+v, want the dead entry", got)
				}
			},
		},
		{
			name:  "different body",
			setup: func(t *testing.T, s *Spool) { mustPut(t, s, testEntry("r1")) },
			put: func() Entry {
				e := testEntry("r1")
				e.Body = []byte("another ciphertext")
				return e
			}(),
			wantErr: ErrConflict,
		},
		{
			name:  "different hotline",
			setup: func(t *testing.T, s *Spool) { mustPut(t, s, testEntry("r1")) },
			put: func() Entry {
				e := testEntry("r1")
				e.Hotline = "hl-other"
				return e
			}(),
			wantErr: ErrConflict,
		},
		{
			name: "different body of a dead entry",
			setup: func(t *testing.T, s *Spool) {
				mustPut(t, s, testEntry("r1"))
				mustBury(t, s, "r1", "410 gone")
			},
			put: func() Entry {
				e := testEntry("r1")
				e.Body = []byte("another ciphertext")
				return e
			}(),
			wantErr: ErrConflict,
		},
		{
			name: "defaults and normalization",
			put: Entry{
				ID:          "r1",
				Hotline:     "hl-test",
				Body:        []byte("x"),
				Received:    t0.Add(1500 * time.Millisecond).In(time.FixedZone("CET", 3600)),
				Attempts:    7,
				LastError:   "ignored",
				Dead:        true,
				NextAttempt: time.Time{},
			},
			wantCreated: true,
			check: func(t *testing.T, got Entry) {
				want := t0.Add(time.Second)
				if !got.Received.Equal(want) || got.Received.Location() != time.UTC {
					t.Errorf("Received = %v, want %v UTC", got.Received, want)
				}
				if !got.NextAttempt.Equal(got.Received) {
					t.Errorf("NextAttempt = %v, want Received", got.NextAttempt)
				}
				if got.Attempts != 0 || got.LastError != "" || got.Dead {
					t.Errorf("stored %+v, want a fresh entry", got)
				}
			},
		},
		{
			name:        "zero received means now",
			put:         Entry{ID: "r1", Hotline: "hl-test", Body: []byte("x")},
			wantCreated: true,
			check: func(t *testing.T, got Entry) {
				if d := time.Since(got.Received); d < 0 || d > time.Minute || got.Received.Nanosecond() != 0 {
					t.Errorf("Received = %v, want now truncated to the second", got.Received)
				}
			},
		},
		{name: "64-byte id", put: testEntry(id64), wantCreated: true},
		{name: "empty id", put: testEntry(""), wantErr: ErrInvalid},
		{name: "65-byte id", put: testEntry(id64 + "a"), wantErr: ErrInvalid},
		{name: "empty body", put: Entry{ID: "r1", Hotline: "hl-test", Received: t0}, wantErr: ErrInvalid},
		{name: "empty hotline", put: Entry{ID: "r1", Body: []byte("x"), Received: t0}, wantErr: ErrInvalid},
		{name: "long site", put: Entry{ID: "r1", Hotline: "h", Site: strings.Repeat("s", MaxNameLen+1), Body: []byte("x")}, wantErr: ErrInvalid},
		{name: "received before 1970", put: Entry{ID: "r1", Hotline: "h", Body: []byte("x"), Received: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}, wantErr: ErrInvalid},
		{name: "next attempt after 2262", put: Entry{ID: "r1", Hotline: "h", Body: []byte("x"), NextAttempt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			got, created, err := s.Put(tt.put)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Put error = %v, want %v", err, tt.wantErr)
			}
			checkInvariants(t, s)
			if err != nil {
				t.Logf("error: %v", err)
				return
			}
			if created != tt.wantCreated {
				t.Errorf("created = %v, want %v", created, tt.wantCreated)
			}
			stored, err := s.Get(tt.put.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameEntry(got, stored) {
				t.Errorf("Put returned %+v, Get returns %+v", got, stored)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestPutConflictLeavesOriginal(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, testEntry("r1"))
	evil := testEntry("r1")
	evil.Body = []byte("replacement")
	if _, _, err := s.Put(evil); !errors.Is(err, ErrConflict) {
		t.Fatalf("Put = %v, want ErrConflict", err)
	}
	got, err := s.Get("r1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, testEntry("r1").Body) {
		t.Errorf("body was replaced: %q", got.Body)
	}
}

func TestGet(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, testEntry("r1"))
	for _, id := range []string{"missing", ""} {
		_, err := s.Get(id)
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(%q) = %v, want ErrNotFound or ErrInvalid", id, err)
		}
	}
	got, err := s.Get("r1")
	if err != nil {
		t.Fatal(err)
	}
	got.Body[0] = 'X' // the caller owns the returned body
	again, _ := s.Get("r1")
	if again.Body[0] != 'a' {
		t.Error("Get returned memory shared with the database")
	}
}

func TestDue(t *testing.T) {
	// r4 and r3 share a NextAttempt, so they come in the order they were
	// stored, r4 first, whatever their ids.
	fill := []Entry{
		at("r5", 5*time.Minute),
		at("r4", 2*time.Minute),
		at("r1", -time.Hour),
		at("r3", 2*time.Minute),
		at("r2", 0),
		at("r6", 24*time.Hour),
	}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"all due, earliest first", t0.Add(10 * time.Minute), 0, []string{"r1", "r2", "r4", "r3", "r5"}},
		{"limit", t0.Add(10 * time.Minute), 3, []string{"r1", "r2", "r4"}},
		{"limit larger than due", t0.Add(10 * time.Minute), 100, []string{"r1", "r2", "r4", "r3", "r5"}},
		{"negative limit means all", t0.Add(10 * time.Minute), -1, []string{"r1", "r2", "r4", "r3", "r5"}},
		{"boundary is inclusive", t0.Add(2 * time.Minute), 0, []string{"r1", "r2", "r4", "r3"}},
		{"one nanosecond before", t0.Add(2*time.Minute - 1), 0, []string{"r1", "r2"}},
		{"nothing due yet", t0.Add(-2 * time.Hour), 0, nil},
		{"before 1970", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 0, nil},
		{"far future", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0, []string{"r1", "r2", "r4", "r3", "r5", "r6"}},
	}
	s, _ := openTemp(t)
	mustPut(t, s, fill...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Due(tt.now, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Due = %v, want %v", ids(got), tt.want)
			}
			for _, e := range got {
				if len(e.Body) == 0 || e.Dead {
					t.Errorf("Due returned %+v", e)
				}
			}
		})
	}
}

func TestDueSkipsDead(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("r1", 0), at("r2", 0))
	mustBury(t, s, "r1", "gone")
	got, err := s.Due(t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []string{"r2"}) {
		t.Errorf("Due = %v, want [r2]", ids(got))
	}
}

func TestNextDue(t *testing.T) {
	s, _ := openTemp(t)
	if _, ok, err := s.NextDue(); ok || err != nil {
		t.Fatalf("NextDue on empty spool = %v, %v; want false, nil", ok, err)
	}
	mustPut(t, s, at("r1", time.Hour), at("r2", time.Minute+time.Nanosecond))
	next, ok, err := s.NextDue()
	if err != nil || !ok || !next.Equal(t0.Add(time.Minute+time.Nanosecond)) {
		t.Fatalf("NextDue = %v, %v, %v; want %v", next, ok, err, t0.Add(time.Minute))
	}
	if err := s.Reschedule("r2", t0.Add(2*time.Hour), "timeout"); err != nil {
		t.Fatal(err)
	}
	if next, _, _ := s.NextDue(); !next.Equal(t0.Add(time.Hour)) {
		t.Errorf("NextDue after Reschedule = %v, want %v", next, t0.Add(time.Hour))
	}
}

func TestReschedule(t *testing.T) {
	long := strings.Repeat("é", MaxLastErrorLen) // 2 bytes per rune
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *Spool)
		id      string
		next    time.Time
		lastErr string
		wantErr error
		check   func(t *testing.T, s *Spool)
	}{
		{
			name:    "first failure",
			id:      "r1",
			next:    t0.Add(time.Minute),
			lastErr: "hotline answered 503",
			check: func(t *testing.T, s *Spool) {
				e, _ := s.Get("r1")
				if e.Attempts != 1 || e.LastError != "hotline answered 503" || !e.NextAttempt.Equal(t0.Add(time.Minute)) {
					t.Errorf("entry %+v", e)
				}
				if due, _ := s.Due(t0, 0); slices.Contains(ids(due), "r1") {
					t.Error("r1 still due at its old time")
				}
				if due, _ := s.Due(t0.Add(time.Minute), 0); !slices.Contains(ids(due), "r1") {
					t.Error("r1 not due at its new time")
				}
			},
		},
		{
			name: "second failure",
			setup: func(t *testing.T, s *Spool) {
				if err := s.Reschedule("r1", t0.Add(time.Minute), "503"); err != nil {
					t.Fatal(err)
				}
			},
			id:      "r1",
			next:    t0.Add(3 * time.Minute),
			lastErr: "connection refused",
			check: func(t *testing.T, s *Spool) {
				if e, _ := s.Get("r1"); e.Attempts != 2 || e.LastError != "connection refused" {
					t.Errorf("entry %+v", e)
				}
			},
		},
		{
			name: "earlier than before",
			id:   "r1",
			next: t0.Add(-time.Hour),
			check: func(t *testing.T, s *Spool) {
				if due, _ := s.Due(t0.Add(-time.Hour), 0); !slices.Equal(ids(due), []string{"r1"}) {
					t.Errorf("Due = %v", ids(due))
				}
			},
		},
		{
			name:    "long error is truncated on a rune boundary",
			id:      "r1",
			next:    t0,
			lastErr: long,
			check: func(t *testing.T, s *Spool) {
				e, _ := s.Get("r1")
				if len(e.LastError) != MaxLastErrorLen || !utf8.ValidString(e.LastError) {
					t.Errorf("LastError is %d bytes, valid UTF-8 %v", len(e.LastError), utf8.ValidString(e.LastError))
				}
			},
		},
		{name: "missing", id: "nope", next: t0, wantErr: ErrNotFound},
		{
			name:    "dead",
			setup:   func(t *testing.T, s *Spool) { mustBury(t, s, "r1", "gone") },
			id:      "r1",
			next:    t0,
			wantErr: ErrNotFound,
		},
		{name: "empty id", id: "", next: t0, wantErr: ErrInvalid},
		{name: "time out of range", id: "r1", next: time.Time{}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			mustPut(t, s, at("r1", 0), at("r2", 30*time.Second))
			if tt.setup != nil {
				tt.setup(t, s)
			}
			err := s.Reschedule(tt.id, tt.next, tt.lastErr)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Reschedule = %v, want %v", err, tt.wantErr)
			}
			checkInvariants(t, s)
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *Spool)
		id      string
		wantErr error
		pending []string
		dead    []string
	}{
		{name: "pending", id: "r1", pending: []string{"r2"}},
		{name: "missing", id: "nope", wantErr: ErrNotFound, pending: []string{"r1", "r2"}},
		{
			name: "twice",
			setup: func(t *testing.T, s *Spool) {
				if err := s.Delete("r1"); err != nil {
					t.Fatal(err)
				}
			},
			id:      "r1",
			wantErr: ErrNotFound,
			pending: []string{"r2"},
		},
		{
			name:    "dead is not deleted",
			setup:   func(t *testing.T, s *Spool) { mustBury(t, s, "r1", "gone") },
			id:      "r1",
			wantErr: ErrNotFound,
			pending: []string{"r2"},
			dead:    []string{"r1"},
		},
		{name: "too long id", id: strings.Repeat("x", 65), wantErr: ErrInvalid, pending: []string{"r1", "r2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			mustPut(t, s, at("r1", 0), at("r2", time.Second))
			if tt.setup != nil {
				tt.setup(t, s)
			}
			if err := s.Delete(tt.id); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Delete = %v, want %v", err, tt.wantErr)
			}
			checkInvariants(t, s)
			due, err := s.Due(t0.Add(time.Hour), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(due), tt.pending) {
				t.Errorf("pending = %v, want %v", ids(due), tt.pending)
			}
			dead, err := s.Dead()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(dead), tt.dead) {
				t.Errorf("dead = %v, want %v", ids(dead), tt.dead)
			}
		})
	}
}

func TestDeadLetters(t *testing.T) {
	type step struct {
		op      string // bury, revive, purge
		id      string
		wantErr error
	}
	tests := []struct {
		name    string
		steps   []step
		pending []string
		dead    []string
	}{
		{
			name:    "bury",
			steps:   []step{{"bury", "r1", nil}},
			pending: []string{"r2"},
			dead:    []string{"r1"},
		},
		{
			name:    "bury then revive",
			steps:   []step{{"bury", "r1", nil}, {"revive", "r1", nil}},
			pending: []string{"r1", "r2"},
		},
		{
			name:    "bury then purge",
			steps:   []step{{"bury", "r1", nil}, {"purge", "r1", nil}},
			pending: []string{"r2"},
		},
		{
			name:    "purge pending is refused",
			steps:   []step{{"purge", "r1", ErrNotFound}},
			pending: []string{"r1", "r2"},
		},
		{
			name:    "revive pending is refused",
			steps:   []step{{"revive", "r1", ErrNotFound}},
			pending: []string{"r1", "r2"},
		},
		{
			name:    "bury twice",
			steps:   []step{{"bury", "r1", nil}, {"bury", "r1", ErrNotFound}},
			pending: []string{"r2"},
			dead:    []string{"r1"},
		},
		{
			name:    "purged is gone",
			steps:   []step{{"bury", "r1", nil}, {"purge", "r1", nil}, {"purge", "r1", ErrNotFound}, {"revive", "r1", ErrNotFound}},
			pending: []string{"r2"},
		},
		{
			name:    "missing",
			steps:   []step{{"bury", "nope", ErrNotFound}, {"revive", "nope", ErrNotFound}, {"purge", "nope", ErrNotFound}},
			pending: []string{"r1", "r2"},
		},
		{
			name:    "bad ids",
			steps:   []step{{"bury", "", ErrInvalid}, {"revive", "", ErrInvalid}, {"purge", strings.Repeat("x", 65), ErrInvalid}},
			pending: []string{"r1", "r2"},
		},
		{
			name:  "bury all",
			steps: []step{{"bury", "r2", nil}, {"bury", "r1", nil}},
			dead:  []string{"r1", "r2"},
		},
	}
	revivedAt := t0.Add(time.Hour)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			mustPut(t, s, at("r1", 0), at("r2", time.Second))
			if err := s.Reschedule("r1", t0.Add(time.Minute), "503"); err != nil {
				t.Fatal(err)
			}
			for _, st := range tt.steps {
				var err error
				switch st.op {
				case "bury":
					err = s.Bury(st.id, "gave up after 1 attempt")
				case "revive":
					err = s.Revive(st.id, revivedAt)
				case "purge":
					err = s.Purge(st.id)
				}
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("%s(%q) = %v, want %v", st.op, st.id, err, st.wantErr)
				}
				checkInvariants(t, s)
			}
			due, err := s.Due(revivedAt, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(slices.Sorted(slices.Values(ids(due))), tt.pending) {
				t.Errorf("pending = %v, want %v", ids(due), tt.pending)
			}
			dead, err := s.Dead()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(dead), tt.dead) {
				t.Errorf("dead = %v, want %v", ids(dead), tt.dead)
			}
			for _, e := range dead {
				if !e.Dead || e.LastError != "gave up after 1 attempt" || len(e.Body) == 0 {
					t.Errorf("dead entry %+v", e)
				}
				if got, err := s.Get(e.ID); err != nil || !sameEntry(got, e) {
					t.Errorf("Get(%s) = %+v, %v; want %+v", e.ID, got, err, e)
				}
			}
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Pending != len(tt.pending) || st.Dead != len(tt.dead) {
				t.Errorf("Stats = %+v, want %d pending, %d dead", st, len(tt.pending), len(tt.dead))
			}
		})
	}
}

func TestBuryKeepsHistoryAndReviveResets(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("r1", 0))
	for i := range 3 {
		if err := s.Reschedule("r1", t0.Add(time.Duration(i+1)*time.Minute), "503"); err != nil {
			t.Fatal(err)
		}
	}
	mustBury(t, s, "r1", "gave up after 4 attempts")
	e, err := s.Get("r1")
	if err != nil {
		t.Fatal(err)
	}
	// Three attempts rescheduled, and the fourth, which gave up, buried.
	if !e.Dead || e.Attempts != 4 || e.LastError != "gave up after 4 attempts" {
		t.Errorf("buried entry %+v", e)
	}
	if _, ok, _ := s.NextDue(); ok {
		t.Error("NextDue reports a buried entry")
	}
	now := t0.Add(48 * time.Hour)
	if err := s.Revive("r1", now); err != nil {
		t.Fatal(err)
	}
	e, err = s.Get("r1")
	if err != nil {
		t.Fatal(err)
	}
	if e.Dead || e.Attempts != 0 || !e.NextAttempt.Equal(now) || !e.Received.Equal(t0) {
		t.Errorf("revived entry %+v", e)
	}
}

func TestStats(t *testing.T) {
	received := func(id string, d time.Duration) Entry {
		e := testEntry(id)
		e.Received = t0.Add(d)
		return e
	}
	tests := []struct {
		name  string
		fill  []Entry
		bury  []string
		del   []string
		want  Stats
		empty bool
	}{
		{name: "empty", want: Stats{}},
		{
			name: "pending",
			fill: []Entry{received("r1", time.Hour), received("r2", -time.Hour), received("r3", 0)},
			want: Stats{Pending: 3, Oldest: t0.Add(-time.Hour)},
		},
		{
			name: "oldest is among pending only",
			fill: []Entry{received("r1", time.Hour), received("r2", -time.Hour), received("r3", 0)},
			bury: []string{"r2"},
			want: Stats{Pending: 2, Dead: 1, Oldest: t0},
		},
		{
			name: "deleted",
			fill: []Entry{received("r1", time.Hour), received("r2", -time.Hour)},
			del:  []string{"r1", "r2"},
			want: Stats{},
		},
		{
			name: "all dead",
			fill: []Entry{received("r1", time.Hour)},
			bury: []string{"r1"},
			want: Stats{Dead: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			mustPut(t, s, tt.fill...)
			for _, id := range tt.bury {
				mustBury(t, s, id, "gone")
			}
			for _, id := range tt.del {
				if err := s.Delete(id); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if got.Pending != tt.want.Pending || got.Dead != tt.want.Dead || !got.Oldest.Equal(tt.want.Oldest) {
				t.Errorf("Stats = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// snapshot is everything observable through the API.
type snapshot struct {
	entries map[string]Entry
	due     []string
	dead    []string
	stats   Stats
	next    time.Time
}

func takeSnapshot(t *testing.T, s *Spool, allIDs []string) snapshot {
	t.Helper()
	snap := snapshot{entries: map[string]Entry{}}
	for _, id := range allIDs {
		e, err := s.Get(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		snap.entries[id] = e
	}
	due, err := s.Due(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	if err != nil {
		t.Fatal(err)
	}
	snap.due = ids(due)
	dead, err := s.Dead()
	if err != nil {
		t.Fatal(err)
	}
	snap.dead = ids(dead)
	if snap.stats, err = s.Stats(); err != nil {
		t.Fatal(err)
	}
	if snap.next, _, err = s.NextDue(); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestReopen(t *testing.T) {
	s, path := openTemp(t)
	var all []string
	for i := range 20 {
		id := fmt.Sprintf("r%02d", i)
		all = append(all, id)
		mustPut(t, s, at(id, time.Duration(i)*time.Second))
	}
	if err := s.Reschedule("r03", t0.Add(time.Hour), "503"); err != nil {
		t.Fatal(err)
	}
	mustBury(t, s, "r05", "gone")
	mustBury(t, s, "r06", "gone")
	if err := s.Revive("r06", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mustBury(t, s, "r07", "gone")
	if err := s.Purge("r07"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("r08"); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, s, all)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	checkInvariants(t, s2)
	after := takeSnapshot(t, s2, all)
	if len(after.entries) != 18 || len(before.entries) != 18 {
		t.Errorf("%d entries before, %d after reopen; want 18", len(before.entries), len(after.entries))
	}
	for id, e := range before.entries {
		if !sameEntry(e, after.entries[id]) {
			t.Errorf("%s before reopen %+v, after %+v", id, e, after.entries[id])
		}
	}
	if !slices.Equal(before.due, after.due) || !slices.Equal(before.dead, after.dead) ||
		before.stats.Pending != after.stats.Pending || before.stats.Dead != after.stats.Dead ||
		!before.stats.Oldest.Equal(after.stats.Oldest) || !before.next.Equal(after.next) {
		t.Errorf("before reopen %+v\nafter %+v", before, after)
	}
	// The spool still works after reopening.
	mustPut(t, s2, at("new", 0))
	if _, created, err := s2.Put(at("r00", 0)); created || err != nil {
		t.Errorf("Put of existing r00 after reopen = %v, %v", created, err)
	}
}

func TestOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	s, path := openTemp(t)
	_ = s
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", p, got, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a bolt file "), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(junk); err == nil {
		s.Close()
		t.Error("Open of a non-bbolt file succeeded")
	} else {
		t.Logf("junk file: %v", err)
	}

	future := filepath.Join(dir, "future.db")
	s, err := Open(future)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte("4"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(future); err == nil || !strings.Contains(err.Error(), "unsupported spool format") {
		if s != nil {
			s.Close()
		}
		t.Errorf("Open of a format 4 spool = %v, want unsupported format", err)
	}
}

func TestClosed(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("r1", 0))
	if err := s.Writable(); err != nil {
		t.Fatalf("Writable on an open spool = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{
		"Close":      s.Close(),
		"Writable":   s.Writable(),
		"Delete":     s.Delete("r1"),
		"Bury":       s.Bury("r1", "x"),
		"Reschedule": s.Reschedule("r1", t0, "x"),
		"Revive":     s.Revive("r1", t0),
		"Purge":      s.Purge("r1"),
	}
	_, _, checks["Put"] = s.Put(at("r2", 0))
	_, checks["Get"] = s.Get("r1")
	_, checks["Due"] = s.Due(t0, 0)
	_, _, checks["NextDue"] = s.NextDue()
	_, checks["Dead"] = s.Dead()
	_, checks["Stats"] = s.Stats()
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestCorruptRecord(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("r1", 0), at("r2", 0))
	rec := encodeRecord(at("other", 0))
	flipped := encodeRecord(at("r2", 0))
	flipped[len(flipped)/2] ^= 0x40
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketEntries).Put([]byte("r1"), rec); err != nil {
			return err
		}
		return tx.Bucket(bucketEntries).Put([]byte("r2"), flipped)
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		_, err := s.Get(id)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Get(%s) = %v, want ErrCorrupt", id, err)
		}
		t.Logf("Get(%s): %v", id, err)
	}
	// Listing passes over them, names them, and lists the others.
	mustPut(t, s, at("r3", 0))
	due, err := s.Due(t0, 0)
	if err != nil || len(due) != 1 || due[0].ID != "r3" {
		t.Errorf("Due = %v, %v; want r3 alone", due, err)
	}
	if c := s.Corrupt(); len(c) != 2 || c["r1"] == "" || c["r2"] == "" {
		t.Errorf("Corrupt = %v, want r1 and r2 with why", c)
	}
	// So does listing the dead.
	mustPut(t, s, at("r4", 0), at("r5", 0))
	for _, id := range []string{"r4", "r5"} {
		if err := s.Bury(id, "gone"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		v := append([]byte(nil), tx.Bucket(bucketDead).Get([]byte("r4"))...)
		v[len(v)/2] ^= 0x40
		return tx.Bucket(bucketDead).Put([]byte("r4"), v)
	}); err != nil {
		t.Fatal(err)
	}
	dead, err := s.Dead()
	if err != nil || len(dead) != 1 || dead[0].ID != "r5" {
		t.Errorf("Dead = %v, %v; want r5 alone", dead, err)
	}
	if c := s.Corrupt(); c["r4"] == "" {
		t.Errorf("Corrupt = %v, want r4 named", c)
	}
	if err := s.Delete("r2"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Delete = %v, want ErrCorrupt", err)
	}
	if _, _, err := s.Put(at("r2", 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Put over a corrupt record = %v, want ErrCorrupt", err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	s, _ := openTemp(t)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-r%02d", w, i)
				if _, created, err := s.Put(at(id, time.Duration(i)*time.Millisecond)); err != nil || !created {
					errs <- fmt.Errorf("Put(%s) = created %v, %v", id, created, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkInvariants(t, s)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != workers*each {
		t.Errorf("Pending = %d, want %d", st.Pending, workers*each)
	}
	due, err := s.Due(t0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != workers*each {
		t.Errorf("Due returned %d, want %d", len(due), workers*each)
	}
	for w := range workers {
		for i := range each {
			if _, err := s.Get(fmt.Sprintf("w%d-r%02d", w, i)); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestConcurrentDuplicatePuts(t *testing.T) {
	s, _ := openTemp(t)
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range workers {
		wg.Go(func() {
			_, c, err := s.Put(at("same", 0))
			if err != nil {
				t.Error(err)
			}
			if c {
				mu.Lock()
				created++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d Puts reported created, want exactly 1", created)
	}
	checkInvariants(t, s)
	if st, _ := s.Stats(); st.Pending != 1 {
		t.Errorf("Pending = %d, want 1", st.Pending)
	}
}

func TestErrorMessages(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("r1", 0))
	e := at("r1", 0)
	e.Body = []byte("other")
	_, _, err := s.Put(e)
	msgs := []string{err.Error(), s.Delete("missing").Error()}
	_, _, err = s.Put(Entry{})
	msgs = append(msgs, err.Error())
	for _, m := range msgs {
		t.Log(m)
		if m != strings.ToLower(m[:1])+m[1:] || strings.HasSuffix(m, ".") || strings.Contains(m, string(e.Body)) {
			t.Errorf("error %q: want lowercase, no final period, no body", m)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	s, _ := openTemp(b)
	body := bytes.Repeat([]byte{0xa5}, 8<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := Entry{ID: fmt.Sprintf("bench-%012d", i), Hotline: "hl-test", Site: "site-a", Received: t0, Body: body}
		if _, _, err := s.Put(e); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

package spool

import (
	"bytes"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damage rewrites the stored record of id in bucket with what change
// makes of it, the way a failing disk would.
func damage(t *testing.T, s *Spool, bucket []byte, id string, change func(rec []byte) []byte) {
	t.Helper()
	rec := change(rawRecord(t, s, bucket, id))
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(id), rec)
	}); err != nil {
		t.Fatal(err)
	}
}

// flipMiddle flips a byte in the middle of a record: its checksum fails,
// and its body key can still be read.
func flipMiddle(rec []byte) []byte {
	rec[len(rec)/2] ^= 0x40
	return rec
}

// cutShort leaves the first bytes of a record: nothing after its id can
// be read, its body key included.
func cutShort(rec []byte) []byte { return rec[:12] }

// damageBody flips a byte of the body a record keeps apart.
func damageBody(t *testing.T, s *Spool, id string) {
	t.Helper()
	e, err := decodeRecord(rawRecord(t, s, bucketEntries, id))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBodies)
		v := bytes.Clone(b.Get(bodyKey(e.bodyRef)))
		v[0] ^= 0x40
		return b.Put(bodyKey(e.bodyRef), v)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeCorrupt: a report whose record is corrupt, pending or dead, can
// be purged, and takes with it its index keys and its body, so that
// nothing dangling is left; the other reports are untouched, and a record
// that is not corrupt is refused.
func TestPurgeCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, s *Spool) // damages report "bad"
		want   CorruptPurge
	}{
		{
			name: "pending, checksum fails",
			damage: func(t *testing.T, s *Spool) {
				damage(t, s, bucketEntries, "bad", flipMiddle)
			},
			// due, retry, urgent and received
			want: CorruptPurge{IndexKeys: 4, Bodies: 1},
		},
		{
			name: "pending, cut short",
			damage: func(t *testing.T, s *Spool) {
				damage(t, s, bucketEntries, "bad", cutShort)
			},
			// no other record is corrupt: the one body no record names is its
			want: CorruptPurge{IndexKeys: 4, Bodies: 1},
		},
		{
			name:   "pending, its body damaged",
			damage: func(t *testing.T, s *Spool) { damageBody(t, s, "bad") },
			want:   CorruptPurge{IndexKeys: 4, Bodies: 1},
		},
		{
			name: "dead, checksum fails",
			damage: func(t *testing.T, s *Spool) {
				mustBury(t, s, "bad", "gone")
				damage(t, s, bucketDead, "bad", flipMiddle)
			},
			want: CorruptPurge{Dead: true, Bodies: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			bad := urgentAt("bad", 0)
			mustPut(t, s, at("a", 0), bad, at("c", time.Second))
			if err := s.Reschedule("bad", t0.Add(time.Minute), "hotline answered 503"); err != nil {
				t.Fatal(err)
			}
			mustBury(t, s, "c", "gone")
			tt.damage(t, s)
			if _, err := s.Get("bad"); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get(bad) after the damage = %v, want ErrCorrupt", err)
			}
			s.Due(t0.Add(time.Hour), 0)
			s.Dead()
			if s.Corrupt()["bad"] == "" {
				t.Fatalf("Corrupt() = %v, want bad named", s.Corrupt())
			}

			got, err := s.PurgeCorrupt("bad")
			if err != nil {
				t.Fatalf("PurgeCorrupt(bad) = %v", err)
			}
			if got != tt.want {
				t.Errorf("PurgeCorrupt(bad) = %+v, want %+v", got, tt.want)
			}
			checkInvariants(t, s)
			if _, err := s.Get("bad"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(bad) after the purge = %v, want ErrNotFound", err)
			}
			if c := s.Corrupt(); len(c) != 0 {
				t.Errorf("Corrupt() after the purge = %v, want none", c)
			}
			for _, id := range []string{"a", "c"} {
				if e, err := s.Get(id); err != nil || !bytes.Equal(e.Body, testEntry(id).Body) {
					t.Errorf("Get(%s) after the purge = %q, %v; want it whole", id, e.Body, err)
				}
			}
			if _, err := s.PurgeCorrupt("bad"); !errors.Is(err, ErrNotFound) {
				t.Errorf("PurgeCorrupt(bad) again = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestPurgeCorruptRefusesSoundRecords: PurgeCorrupt never removes a report
// that can be read, pending or dead.
func TestPurgeCorruptRefusesSoundRecords(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("pending", 0), at("dead", 0))
	mustBury(t, s, "dead", "gone")
	for _, id := range []string{"pending", "dead"} {
		if _, err := s.PurgeCorrupt(id); !errors.Is(err, ErrNotCorrupt) {
			t.Errorf("PurgeCorrupt(%s) = %v, want ErrNotCorrupt", id, err)
		}
		if _, err := s.Get(id); err != nil {
			t.Errorf("Get(%s) after a refused purge = %v", id, err)
		}
	}
	if _, err := s.PurgeCorrupt("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PurgeCorrupt(missing) = %v, want ErrNotFound", err)
	}
	checkInvariants(t, s)
}

// TestPurgeCorruptBodiesTold: a record whose body key can be read takes its
// body even while other records are corrupt. Of two records cut short,
// neither body can be told apart while the other record remains, so the
// first purge leaves both bodies (and says so); the second purge, with no
// corrupt record left to name them, removes both.
func TestPurgeCorruptBodiesTold(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("a", 0), at("bad0", 0), at("bad1", 0), at("bad2", 0))
	damage(t, s, bucketEntries, "bad0", flipMiddle)
	damage(t, s, bucketEntries, "bad1", cutShort)
	damage(t, s, bucketEntries, "bad2", cutShort)
	got, err := s.PurgeCorrupt("bad0")
	if want := (CorruptPurge{IndexKeys: 2, Bodies: 1}); err != nil || got != want {
		t.Errorf("PurgeCorrupt(bad0) = %+v, %v; want %+v", got, err, want)
	}
	got, err = s.PurgeCorrupt("bad1")
	if want := (CorruptPurge{IndexKeys: 2, BodyLeft: true}); err != nil || got != want {
		t.Errorf("PurgeCorrupt(bad1) = %+v, %v; want %+v", got, err, want)
	}
	got, err = s.PurgeCorrupt("bad2")
	if want := (CorruptPurge{IndexKeys: 2, Bodies: 2}); err != nil || got != want {
		t.Errorf("PurgeCorrupt(bad2) = %+v, %v; want %+v", got, err, want)
	}
	checkInvariants(t, s)
	if e, err := s.Get("a"); err != nil || !bytes.Equal(e.Body, testEntry("a").Body) {
		t.Errorf("Get(a) = %q, %v; want it whole", e.Body, err)
	}
}

// TestPurgeOfCorruptDeadRecordTakesItsBody: Purge, which took a dead
// record that does not decode, takes its body too.
func TestPurgeOfCorruptDeadRecordTakesItsBody(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("a", 0), at("bad", 0))
	mustBury(t, s, "bad", "gone")
	damage(t, s, bucketDead, "bad", flipMiddle)
	if err := s.Purge("bad"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
}

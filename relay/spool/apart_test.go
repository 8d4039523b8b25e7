package spool

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// rawRecord reads the stored record of id from bucket as it is on disk.
func rawRecord(t *testing.T, s *Spool, bucket []byte, id string) []byte {
	t.Helper()
	var rec []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		rec = bytes.Clone(tx.Bucket(bucket).Get([]byte(id)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rec == nil {
		t.Fatalf("no record of %s in %s", id, bucket)
	}
	return rec
}

// bodiesKept counts the bodies kept apart.
func bodiesKept(t *testing.T, s *Spool) int {
	t.Helper()
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketBodies).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A new report's body is stored apart from its record, once: retries,
// burying and reviving rewrite the small record only, and the body goes
// when the report is delivered or purged.
func TestBodiesKeptApart(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("a", 0), urgentAt("b", time.Second), at("c", 2*time.Second))
	checkInvariants(t, s)
	for _, id := range []string{"a", "b", "c"} {
		rec := rawRecord(t, s, bucketEntries, id)
		if rec[0] != recordVersion3 || bytes.Contains(rec, testEntry(id).Body) {
			t.Errorf("record of %s is version %d and holds the body: %v; want version 3 without it", id, rec[0], bytes.Contains(rec, testEntry(id).Body))
		}
	}
	if n := bodiesKept(t, s); n != 3 {
		t.Fatalf("%d bodies kept for 3 reports", n)
	}
	before, _ := decodeRecord(rawRecord(t, s, bucketEntries, "a"))

	for range 2 {
		if err := s.Reschedule("a", t0.Add(time.Minute), "hotline answered 503"); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := decodeRecord(rawRecord(t, s, bucketEntries, "a"))
	if after.bodyRef != before.bodyRef || after.Attempts != 2 || bodiesKept(t, s) != 3 {
		t.Errorf("after two retries: body %d (was %d), %d attempts, %d bodies; want the same body, 2, 3", after.bodyRef, before.bodyRef, after.Attempts, bodiesKept(t, s))
	}
	if got, err := s.Get("a"); err != nil || !bytes.Equal(got.Body, testEntry("a").Body) {
		t.Errorf("Get(a) after retries = %q, %v", got.Body, err)
	}
	checkInvariants(t, s)

	mustBury(t, s, "b", "gone")
	mustBury(t, s, "c", "gone")
	dead, err := s.Dead()
	if err != nil || len(dead) != 2 || !bytes.Equal(dead[0].Body, testEntry("b").Body) || !bytes.Equal(dead[1].Body, testEntry("c").Body) {
		t.Fatalf("Dead() = %v, %v; want b and c with their bodies", ids(dead), err)
	}
	if err := s.Revive("b", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge("c"); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if n := bodiesKept(t, s); n != 2 {
		t.Errorf("%d bodies kept after c was purged, want 2", n)
	}
	due, err := s.Due(t0.Add(time.Hour), 0)
	if err != nil || len(due) != 2 || due[0].ID != "b" || !due[0].Urgent || !bytes.Equal(due[0].Body, testEntry("b").Body) {
		t.Fatalf("Due = %v, %v; want the revived urgent b first, with its body", ids(due), err)
	}
	if n, err := s.DeleteAll([]string{"a", "b"}); err != nil || n != 2 {
		t.Fatalf("DeleteAll = %d, %v", n, err)
	}
	checkInvariants(t, s)
	if n := bodiesKept(t, s); n != 0 {
		t.Errorf("%d bodies kept after every report was delivered", n)
	}
}

// A spool file written before bodies were kept apart (format 1, every
// record holding its body) opens, is marked format 2, and its reports are
// read, retried, delivered and purged as they are, beside new reports
// whose bodies are kept apart.
func TestOldFormatFileStillRead(t *testing.T) {
	s, path := openTemp(t)
	old := []Entry{at("old-1", 0), urgentAt("old-2", time.Second)}
	dead := at("old-dead", 2*time.Second)
	dead.LastError = "gone"
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, e := range old {
			e.NextAttempt = e.NextAttempt.UTC()
			if err := tx.Bucket(bucketEntries).Put([]byte(e.ID), encodeRecord(e)); err != nil {
				return err
			}
			if err := putOldIndexes(tx, e); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketDead).Put([]byte(dead.ID), encodeRecord(dead)); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketBodies); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte(formatVersion1))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopenUpgraded(t, path)
	mustPut(t, s, at("new", 3*time.Second))
	if err := s.Reschedule("old-1", t0.Add(time.Minute), "refused"); err != nil {
		t.Fatal(err)
	}
	if rec := rawRecord(t, s, bucketEntries, "old-1"); rec[0] != recordVersion1 || !bytes.Contains(rec, testEntry("old-1").Body) {
		t.Errorf("a retried old record is version %d, body inside %v; want it as it was", rec[0], bytes.Contains(rec, testEntry("old-1").Body))
	}
	due, err := s.Due(t0.Add(time.Hour), 0)
	if err != nil || len(due) != 3 || due[0].ID != "old-2" {
		t.Fatalf("Due = %v, %v; want old-2 (urgent) first of three", ids(due), err)
	}
	for _, e := range due {
		if !bytes.Equal(e.Body, testEntry(e.ID).Body) {
			t.Errorf("%s: body %q", e.ID, e.Body)
		}
	}
	if err := s.Purge("old-dead"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteAll([]string{"old-1", "old-2", "new"}); err != nil || n != 3 {
		t.Fatalf("DeleteAll = %d, %v", n, err)
	}
	checkInvariants(t, s)
	if st, err := s.Stats(); err != nil || st.Pending != 0 || st.Dead != 0 {
		t.Errorf("Stats = %+v, %v; want empty", st, err)
	}
}

// Compaction keeps the bodies and where their numbering stands, so that a
// body stored afterwards never takes the number of one stored before.
func TestCompactionKeepsBodyNumbers(t *testing.T) {
	s, _ := openTemp(t)
	mustPut(t, s, at("a", 0), at("b", 0), at("c", 0))
	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	last, _ := decodeRecord(rawRecord(t, s, bucketEntries, "c"))
	if _, _, err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, at("d", 0))
	d, _ := decodeRecord(rawRecord(t, s, bucketEntries, "d"))
	if d.bodyRef <= last.bodyRef {
		t.Errorf("a body stored after compaction got number %d, not above the last one before (%d)", d.bodyRef, last.bodyRef)
	}
	checkInvariants(t, s)
	for _, id := range []string{"b", "c", "d"} {
		if got, err := s.Get(id); err != nil || !bytes.Equal(got.Body, testEntry(id).Body) {
			t.Errorf("Get(%s) after compaction = %q, %v", id, got.Body, err)
		}
	}
}

// putOldIndexes adds the index keys of a pending report as files of
// format 2 and older kept them: an 8-byte time, then the id.
func putOldIndexes(tx *bolt.Tx, e Entry) error {
	key := func(t int64) []byte { return append(binary.BigEndian.AppendUint64(nil, uint64(t)), e.ID...) }
	due := key(e.NextAttempt.UnixNano())
	names := [][]byte{bucketDue}
	if e.Attempts > 0 {
		names = append(names, bucketRetry)
	}
	if e.Urgent {
		names = append(names, bucketUrgent)
	}
	for _, name := range names {
		if err := tx.Bucket(name).Put(due, nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketReceived).Put(key(e.Received.Unix()), nil)
}

// A format 2 file, whose index keys break ties of time by id, opens as
// format 3: every key is rewritten with the body number of the record it
// names, and the reports are read, retried and delivered as before, those
// of the same time in the order they were stored.
func TestFormat2IndexesRekeyed(t *testing.T) {
	s, path := openTemp(t)
	// z is stored before a, at the same time; r has failed once; u is
	// urgent.
	mustPut(t, s, at("z", 0), at("a", 0), at("r", time.Second), urgentAt("u", 2*time.Second))
	if err := s.Reschedule("r", t0.Add(time.Second), "hotline answered 503"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, at("dead", 3*time.Second))
	mustBury(t, s, "dead", "gone")
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDue, bucketRetry, bucketUrgent, bucketReceived} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketEntries).ForEach(func(_, v []byte) error {
			e, err := decodeRecord(v)
			if err != nil {
				return err
			}
			return putOldIndexes(tx, e)
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte(formatVersion2))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopenUpgraded(t, path)
	if st, err := s.Stats(); err != nil || st.Pending != 4 || st.Dead != 1 || !st.Oldest.Equal(t0) {
		t.Errorf("Stats = %+v, %v; want 4 pending from %v, 1 dead", st, err, t0)
	}
	due, err := s.Due(t0.Add(time.Hour), 0)
	// The urgent first, then the retried, then the rest by time.
	if want := []string{"u", "r", "z", "a"}; err != nil || !slices.Equal(ids(due), want) {
		t.Fatalf("Due = %v, %v; want %v", ids(due), err, want)
	}
	for _, e := range due {
		if !bytes.Equal(e.Body, testEntry(e.ID).Body) {
			t.Errorf("%s: body %q", e.ID, e.Body)
		}
	}
	if err := s.Reschedule("z", t0.Add(time.Minute), "refused"); err != nil {
		t.Fatal(err)
	}
	if err := s.Revive("dead", t0); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if n, err := s.DeleteAll([]string{"u", "z", "a", "r", "dead"}); err != nil || n != 5 {
		t.Fatalf("DeleteAll = %d, %v", n, err)
	}
	checkInvariants(t, s)
	if st, err := s.Stats(); err != nil || st.Pending != 0 || st.Dead != 0 {
		t.Errorf("Stats = %+v, %v; want empty", st, err)
	}
}

// reopenUpgraded opens the spool file at path, of an older format, and
// checks that Open marked it with the current one and left it sound.
func reopenUpgraded(t *testing.T, path string) *Spool {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a file of an older format: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyFormat); string(v) != formatVersion {
			t.Errorf("format %q after Open, want %q", v, formatVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	return s
}

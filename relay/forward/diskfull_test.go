package forward

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fullStore is a spool whose writes fail, as on a full disk; reads work.
type fullStore struct {
	Store
	mu     sync.Mutex
	full   bool
	writes int
}

var errDiskFull = errors.New("write spool.db: no space left on device")

func (s *fullStore) fail() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.full {
		return errDiskFull
	}
	return nil
}

func (s *fullStore) Reschedule(id string, next time.Time, lastErr string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Reschedule(id, next, lastErr)
}

func (s *fullStore) Delete(id string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Delete(id)
}

func (s *fullStore) DeleteAll(ids []string) (int, error) {
	if err := s.fail(); err != nil {
		return 0, err
	}
	return s.Store.DeleteAll(ids)
}

// A delivery whose outcome the spool cannot record is not tried again at
// once: without its new due time stored it would be due again, and the
// forwarder would spin on it, logging each turn.
func TestFullDiskDoesNotSpin(t *testing.T) {
	for _, answer := range []int{503, 200} {
		f, stub, sp := setup(t, answer)
		var logs bytes.Buffer
		f.Log = slog.New(slog.NewTextHandler(&logs, nil))
		store := &fullStore{Store: sp, full: true}
		f.Spool = store
		put(t, sp, id1, time.Now().Add(-time.Second))
		for range 5 {
			if _, err := f.deliverDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if stub.calls != 1 {
			t.Errorf("intake answering %d: %d attempts while the spool could not record them, want 1", answer, stub.calls)
		}
		if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
			t.Errorf("intake answering %d: %d error lines, want 1:\n%s", answer, n, logs.String())
		}
		// Once the hold runs out, it is tried again, and recorded once the
		// disk has room.
		store.mu.Lock()
		store.full = false
		store.mu.Unlock()
		f.mu.Lock()
		f.held[id1] = time.Now().Add(-time.Second)
		f.mu.Unlock()
		if _, err := f.deliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if stub.calls != 2 {
			t.Errorf("intake answering %d: %d attempts after the hold, want 2", answer, stub.calls)
		}
		e, err := sp.Get(id1)
		switch {
		case answer == 200 && err == nil:
			t.Error("delivered report still in the spool")
		case answer == 503 && (err != nil || e.Attempts != 1):
			t.Errorf("failed attempt not recorded: %+v, %v", e, err)
		}
	}
}

// Repeated failures are logged once per interval, with their count.
func TestErrorLogAggregates(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := errorLog{now: func() time.Time { return now }}
	for range 1000 {
		l.log(log, "failed to reschedule", errDiskFull)
		now = now.Add(time.Millisecond)
	}
	l.log(log, "failed to remove", errDiskFull)
	now = now.Add(errorLogEvery)
	l.log(log, "failed to reschedule", errDiskFull)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 1002 failures, want 3:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "failures=1 ") || !strings.Contains(lines[2], "failures=1000 ") {
		t.Errorf("counts not carried into the next line:\n%s", buf.String())
	}
}

package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A report whose .json could not be written is not taken for a duplicate
// when the relay tries again: the .age, written last, marks it complete.
// Both ways of flushing: grouped (where the system has it) and portable.
func TestFailedWriteDoesNotHideReport(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "grouped", true: "portable"}[portable], func(t *testing.T) {
			f := newFixture(t)
			f.in.dirs.portable = portable
			fail := true
			f.in.stageFile = func(path string, data []byte, fl *flusher) (staged, error) {
				if fail && strings.HasSuffix(path, ".json") {
					return nil, errors.New("injected write failure")
				}
				return stageFile(path, data, fl)
			}
			body := f.payload(t, rid)
			if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("failed write: %d %s", rec.Code, rec.Body)
			}
			if got := files(t, f.inbox); len(got) != 0 {
				t.Fatalf("a failed store left %v in the inbox", got)
			}
			fail = false
			if rec := f.deliver(t, rid, body, time.Now().Add(time.Second), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
				t.Fatalf("retry: %d %s", rec.Code, rec.Body)
			}
			if _, err := os.Stat(filepath.Join(f.inbox, rid+".json")); err != nil {
				t.Errorf("the retried report was not opened: %v", err)
			}
		})
	}
}

// A flush that fails, first of the data and then of the names, is
// answered 503 and leaves nothing, not even a temporary file; the relay's
// next attempt stores the report.
func TestFailedFlushLeavesNothing(t *testing.T) {
	for _, portable := range []bool{false, true} {
		for _, failAt := range []int{1, 2} {
			if portable && failAt == 2 {
				continue // the portable way has one shared flush per report
			}
			name := fmt.Sprintf("%s/flush%d", map[bool]string{false: "grouped", true: "portable"}[portable], failAt)
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				f.in.dirs.portable = portable
				n := 0
				f.in.dirs.wrap = func(flush func() error) error {
					if n++; n == failAt {
						return errors.New("injected flush failure")
					}
					return flush()
				}
				body := f.payload(t, rid)
				if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("failed flush: %d %s", rec.Code, rec.Body)
				}
				if got := files(t, f.inbox); len(got) != 0 {
					t.Fatalf("a failed flush left %v in the inbox", got)
				}
				if rec := f.deliver(t, rid, body, time.Now().Add(time.Second), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
					t.Fatalf("retry: %d %s", rec.Code, rec.Body)
				}
				if got := files(t, f.inbox); len(got) != 2 {
					t.Errorf("after the retry the inbox holds %v, want the report's two files", got)
				}
			})
		}
	}
}

// Writers storing at the same time share the flushes: eight reports of
// two files each take two grouped flushes (one for the data, one for the
// names), not sixteen. The flush is held until every writer waits for it,
// so the count does not depend on timing.
func TestGroupedFlushIsShared(t *testing.T) {
	if !groupedFlush() {
		t.Skip("no grouped flush on this system; the portable way fsyncs each file")
	}
	f := newFixture(t)
	const writers = 8
	fl := &f.in.dirs
	if _, err := fl.begin(f.inbox); err != nil {
		t.Fatal(err)
	}
	finished, flushes := 0, 0
	fl.group.gate = func() { // under fl.group.mu
		for fl.group.next+finished < writers {
			fl.group.cond.Wait()
		}
	}
	fl.wrap = func(flush func() error) error {
		fl.group.mu.Lock()
		flushes++
		fl.group.mu.Unlock()
		return flush()
	}
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("%08d-77de-4c1b-9a4e-2b7c5d1e0f88", i)
			err := f.in.writeReports([][]file{{
				{filepath.Join(f.inbox, id+".json"), []byte("{}\n")},
				{filepath.Join(f.inbox, id+".age"), []byte("envelope")},
			}}, f.inbox, fl)[0]
			if err != nil {
				t.Error(err)
			}
			fl.group.mu.Lock()
			finished++
			fl.group.cond.Broadcast()
			fl.group.mu.Unlock()
		})
	}
	wg.Wait()
	if got := files(t, f.inbox); len(got) != 2*writers {
		t.Errorf("inbox holds %d files, want %d: %v", len(got), 2*writers, got)
	}
	if flushes != 2 {
		t.Errorf("%d writers of %d files took %d flushes, want 2", writers, 2*writers, flushes)
	}
	if st := f.in.Stats(); st.Flushes != uint64(flushes) || st.FlushTime <= 0 {
		t.Errorf("Stats counts %d flushes taking %v, want the %d made", st.Flushes, st.FlushTime, flushes)
	}
}

// A write-back error that a flush reported while a report was being
// written may have been that report's: the report fails although its own
// flush succeeded.
func TestFlushErrorFailsReportsWrittenBefore(t *testing.T) {
	if !groupedFlush() {
		t.Skip("no grouped flush on this system")
	}
	f := newFixture(t)
	fl := &f.in.dirs
	epoch, err := fl.begin(f.inbox)
	if err != nil {
		t.Fatal(err)
	}
	fail := true
	fl.wrap = func(flush func() error) error {
		if fail {
			fail = false
			flush()
			fl.failed.Add(1) // as a flush reporting a write-back error does
			return errors.New("injected write-back error")
		}
		return flush()
	}
	if err := fl.flush(epoch + 1); err == nil {
		t.Fatal("the failing flush was not reported")
	}
	if err := fl.flush(epoch); !errors.Is(err, errEarlierFlush) {
		t.Errorf("a report begun before the error: %v, want errEarlierFlush", err)
	}
	later, _ := fl.begin(f.inbox)
	if err := fl.flush(later); err != nil {
		t.Errorf("a report begun after the error: %v", err)
	}
}

// Deliveries of different reports are stored at the same time; those of
// one report are not, and exactly one of them stores it.
func TestConcurrentDeliveries(t *testing.T) {
	f := newFixture(t)
	ids := []string{rid, "6f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", "7f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"}
	bodies := map[string][]byte{}
	for _, id := range ids {
		bodies[id] = f.payload(t, id)
	}
	const each = 6
	var mu sync.Mutex
	stored := map[string]int{}
	var wg sync.WaitGroup
	for _, id := range ids {
		for i := range each {
			wg.Go(func() {
				body := f.payloadAt(t, id, time.Now().Add(time.Duration(i)*time.Millisecond))
				rec := f.deliver(t, id, body, time.Now(), f.signer)
				if rec.Code != 200 {
					t.Errorf("%s: %d %s", id, rec.Code, rec.Body)
					return
				}
				if strings.Contains(rec.Body.String(), `"stored"`) {
					mu.Lock()
					stored[id]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, id := range ids {
		if stored[id] != 1 {
			t.Errorf("report %s stored %d times, want once", id, stored[id])
		}
		if _, err := os.Stat(filepath.Join(f.inbox, id+".json")); err != nil {
			t.Error(err)
		}
	}
	if got := files(t, f.inbox); len(got) != 2*len(ids) {
		t.Errorf("inbox holds %v", got)
	}
	f.in.mu.Lock()
	defer f.in.mu.Unlock()
	if len(f.in.storing) != 0 {
		t.Errorf("%d report locks left after the deliveries", len(f.in.storing))
	}
}

// An .age left without its .json (a crash between the two writes) is
// completed by the next delivery of the report, not taken for a duplicate.
func TestLoneEnvelopeCompleted(t *testing.T) {
	f := newFixture(t)
	body := f.payload(t, rid)
	var p struct {
		Data struct{ Envelope []byte } `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.inbox, rid+".age"), p.Data.Envelope, 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	if _, err := os.Stat(filepath.Join(f.inbox, rid+".json")); err != nil {
		t.Errorf("the report was not opened: %v", err)
	}
	if rec := f.deliver(t, rid, body, time.Now().Add(time.Second), f.signer); !strings.Contains(rec.Body.String(), `"duplicate"`) {
		t.Errorf("once complete, a delivery is a duplicate: %d %s", rec.Code, rec.Body)
	}
}

// A .json left without its .age (a crash between naming the two) is
// replaced and the report completed by the next delivery, in both ways of
// flushing.
func TestLoneReportCompleted(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "grouped", true: "portable"}[portable], func(t *testing.T) {
			f := newFixture(t)
			f.in.dirs.portable = portable
			if err := os.WriteFile(filepath.Join(f.inbox, rid+".json"), []byte(`{"id":`), 0o600); err != nil {
				t.Fatal(err)
			}
			body := f.payload(t, rid)
			if rec := f.deliver(t, rid, body, time.Now(), f.signer); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored"`) {
				t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
			}
			b, err := os.ReadFile(filepath.Join(f.inbox, rid+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var o Opened
			if err := json.Unmarshal(b, &o); err != nil || o.Report == nil || o.Report.ID != rid {
				t.Errorf("the cut-short .json was not replaced by the opened report: %v %q", err, b)
			}
			if got := files(t, f.inbox); len(got) != 2 {
				t.Errorf("inbox holds %v, want the report's two files", got)
			}
		})
	}
}

// Where the filesystem can, a report's files have no name until their data
// is durable: a crash before then leaves nothing in the inbox, not even a
// temporary file.
func TestStagedFileHasNoName(t *testing.T) {
	f := newFixture(t)
	fl := &f.in.dirs
	if _, err := fl.begin(f.inbox); err != nil {
		t.Fatal(err)
	}
	if !fl.unnamed {
		t.Skip("this filesystem has no unnamed files; a staged file has a temporary name")
	}
	path := filepath.Join(f.inbox, rid+".age")
	st, err := stageFile(path, []byte("envelope"), fl)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Errorf("a staged file shows in the inbox as %v", got)
	}
	if err := st.name(path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "envelope" {
		t.Errorf("named file: %q, %v", b, err)
	}
}

// A staged file's descriptor is closed once it is named or discarded:
// an intake that stores reports for months must not run out of them.
func TestStagedFilesClosed(t *testing.T) {
	f := newFixture(t)
	fl := &f.in.dirs
	if _, err := fl.begin(f.inbox); err != nil {
		t.Fatal(err)
	}
	open := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("cannot count open descriptors: %v", err)
		}
		return len(entries)
	}
	const n = 20
	before := open()
	for i := range 2 * n {
		path := filepath.Join(f.inbox, strconv.Itoa(i)+".age")
		st, err := stageFile(path, []byte("envelope"), fl)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			st.discard()
		} else if err := st.name(path); err != nil {
			t.Fatal(err)
		}
	}
	if after := open(); after-before >= n {
		t.Errorf("%d descriptors open after staging %d files, %d before", after, 2*n, before)
	}
}

package intake

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/report"
)

// The batch crash test re-executes the test binary. The child stores the
// batch that the parent wrote into the folder named by batchCrashEnv, and
// stops in its flush number batchCrashFlushEnv (1: the data's, before any
// name; 2: the names') for the parent to kill it.
const (
	batchCrashEnv      = "INTAKE_BATCH_CRASH_DIR"
	batchCrashFlushEnv = "INTAKE_BATCH_CRASH_FLUSH"
	batchCrashMarker   = "INTAKE-BATCH-CHILD-IN-FLUSH"
)

// batchCrashChild is the child side. It never returns.
func batchCrashChild(dir string, stopAt int) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		return b
	}
	id, err := age.ParseHybridIdentity(strings.TrimSpace(string(read("identity"))))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	v, err := delivery.NewVerifier(string(read("pk")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	var h http.Header
	json.Unmarshal(read("headers"), &h)
	in := &Intake{Verifier: v, Inbox: string(read("inbox-path")), Identities: []age.Identity{id}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)}
	var mu sync.Mutex
	n := 0
	in.dirs.wrap = func(flush func() error) error {
		mu.Lock()
		n++
		stop := n == stopAt
		mu.Unlock()
		if stop {
			fmt.Println(batchCrashMarker)
			bufio.NewReader(os.Stdin).ReadString('\n') // killed here
		}
		return flush()
	}
	req := httptest.NewRequest("POST", "/v1/deliveries", bytes.NewReader(read("body")))
	req.Header = h
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, req)
	fmt.Fprintf(os.Stderr, "child: the batch was answered %d without the flush it was to stop in: %s\n", rec.Code, rec.Body)
	os.Exit(3)
}

// TestBatchKilledBetweenFlushes kills the intake while it stores a batch:
// in the flush of the data, before any report has a name, and in the
// flush of the names. Started again, it leaves no temporary file, and a
// delivery of the same batch, as the relay sends it again having had no
// answer, leaves each report in the inbox once, whole.
func TestBatchKilledBetweenFlushes(t *testing.T) {
	if dir := os.Getenv(batchCrashEnv); dir != "" {
		stopAt, _ := strconv.Atoi(os.Getenv(batchCrashFlushEnv))
		batchCrashChild(dir, stopAt)
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	if !groupedFlush() {
		t.Skip("the portable store flushes once: no flush of names to stop in")
	}
	for _, stopAt := range []int{1, 2} {
		t.Run(fmt.Sprintf("flush %d", stopAt), func(t *testing.T) {
			dir := t.TempDir()
			identity, _ := age.GenerateHybridIdentity()
			sk, pk, _ := delivery.GenerateEd25519()
			signer, _ := delivery.NewEd25519Signer(sk)
			rcpts, _ := report.ParseRecipients([]string{identity.Recipient().String()})
			v, _ := delivery.NewVerifier(pk)
			inbox := filepath.Join(dir, "inbox")
			f := &fixture{in: &Intake{Verifier: v, Inbox: inbox, Identities: []age.Identity{identity}, Hotline: "h1", Log: slog.New(slog.DiscardHandler)},
				signer: signer, rcpts: rcpts, inbox: inbox}
			ids := newIDs(12)
			ds := f.sealedAll(t, ids)
			now := time.Now()
			body := batchBody(now, ds...)
			h := http.Header{"Content-Type": {"application/json"}}
			if err := delivery.SetHeaders(h, signer, uuid.NewString(), now, body); err != nil {
				t.Fatal(err)
			}
			hb, _ := json.Marshal(h)
			for name, b := range map[string][]byte{"identity": []byte(identity.String()), "pk": []byte(pk), "body": body, "headers": hb, "inbox-path": []byte(inbox)} {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBatchKilledBetweenFlushes$", "-test.count=1")
			cmd.Env = append(os.Environ(), batchCrashEnv+"="+dir, batchCrashFlushEnv+"="+strconv.Itoa(stopAt))
			cmd.Stderr = os.Stderr
			stdin, _ := cmd.StdinPipe()
			defer stdin.Close()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			inFlush := false
			for !inFlush && sc.Scan() {
				inFlush = sc.Text() == batchCrashMarker
			}
			cmd.Process.Kill()
			cmd.Wait()
			if !inFlush {
				t.Fatal("the child ended before the flush it was to stop in")
			}
			if _, err := RemoveTemporary(inbox); err != nil {
				t.Fatal(err)
			}
			named := 0
			for _, name := range files(t, inbox) {
				id, ok := strings.CutSuffix(name, ".json")
				if !ok {
					id, ok = strings.CutSuffix(name, ".age")
				}
				if !ok || uuid.Validate(id) != nil {
					t.Errorf("after the kill, the inbox holds %s", name)
				}
				named++
			}
			if stopAt == 1 && named != 0 {
				t.Errorf("killed before the data was flushed, %d files have names", named)
			}
			if stopAt == 2 && named != 2*len(ids) {
				t.Errorf("killed in the flush of the names, %d files have names, want %d", named, 2*len(ids))
			}

			rec, _ := f.deliverBatch(t, body, time.Now())
			a := answer(t, rec)
			for i, r := range a.Results {
				if r.Status != 200 {
					t.Errorf("report %d delivered again: %+v", i, r)
				}
			}
			want := map[string]bool{}
			for i, id := range ids {
				want[id+".json"], want[id+".age"] = true, true
				if env, err := os.ReadFile(filepath.Join(inbox, id+".age")); err != nil || !bytes.Equal(env, ds[i].Envelope) {
					t.Errorf("report %s: envelope not stored whole (%v)", id, err)
				}
				var o Opened
				if b, err := os.ReadFile(filepath.Join(inbox, id+".json")); err != nil || json.Unmarshal(b, &o) != nil || o.ID != id {
					t.Errorf("report %s: %s not stored whole (%v)", id, id+".json", err)
				}
			}
			got := files(t, inbox)
			if len(got) != len(want) {
				t.Errorf("the inbox holds %d files, want %d: %v", len(got), len(want), got)
			}
			for _, name := range got {
				if !want[name] {
					t.Errorf("the inbox holds %s", name)
				}
			}
		})
	}
}

// A full or failing disk makes every store fail, and a relay with a
// backlog sends reports again and again, a batch at a time: the failures
// are logged once a second, saying how many were left out, so that the
// log does not fill what is left of the disk; each is still counted.
func TestStoreFailuresLoggedQuietly(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.in.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	now := time.Now()
	f.in.Now = func() time.Time { return now }
	f.in.dirs.wrap = func(func() error) error { return errors.New("injected flush failure: no space left on device") }
	ids := newIDs(20)
	rec, _ := f.deliverBatch(t, batchBody(now, f.sealedAll(t, ids)...), now)
	for i, r := range answer(t, rec).Results {
		if r.Status != http.StatusServiceUnavailable {
			t.Errorf("report %d: %+v, want 503", i, r)
		}
	}
	if n := strings.Count(logs.String(), "failed to store delivery"); n != 1 {
		t.Errorf("%d lines for 20 reports not stored in the same second, want 1:\n%s", n, &logs)
	}
	now = now.Add(2 * time.Second)
	rec, _ = f.deliverBatch(t, batchBody(now, f.sealedAll(t, newIDs(1))...), now)
	answer(t, rec)
	if !strings.Contains(logs.String(), `"not_logged":19`) {
		t.Errorf("the next line does not say 19 were left out:\n%s", &logs)
	}
	if st := f.in.Stats(); st.Refused["store-unavailable"] != 21 {
		t.Errorf("refused %v, want 21 store-unavailable", st.Refused)
	}
}

package intake

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testlog"
)

// TestRefusalsWithoutKeyLogQuietly sends 200 deliveries signed with a key
// the intake does not trust, and 50 without a signature: each is refused
// and counted, but the log gets one line a second for them, not one each,
// the next saying how many were left out. A sender without a key could
// otherwise fill the disk under the log (and the inbox, if they share it)
// at the rate it sends requests.
func TestRefusalsWithoutKeyLogQuietly(t *testing.T) {
	f := newFixture(t)
	logs := &testlog.Buffer{}
	f.in.Log = slog.New(slog.NewJSONHandler(logs, nil))
	now := time.Now()
	f.in.Now = func() time.Time { return now }
	sk, _, _ := delivery.GenerateEd25519()
	forger, _ := delivery.NewEd25519Signer(sk)
	for range 200 {
		id := uuid.NewString()
		if rec := f.deliver(t, id, f.payloadAt(t, id, now), now, forger); rec.Code != 401 {
			t.Fatalf("a forged delivery: %d %s", rec.Code, rec.Body)
		}
	}
	for range 50 {
		if rec := f.deliver(t, rid, []byte("{}"), now, nil); rec.Code != 401 {
			t.Fatalf("an unsigned delivery: %d %s", rec.Code, rec.Body)
		}
	}
	if n := strings.Count(logs.String(), "delivery refused"); n != 1 {
		t.Errorf("%d log lines for 250 refusals within a second, want 1:\n%s", n, logs)
	}
	now = now.Add(2 * time.Second)
	if rec := f.deliver(t, rid, []byte("{}"), now, nil); rec.Code != 401 {
		t.Fatalf("an unsigned delivery: %d %s", rec.Code, rec.Body)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"not_logged":249`) {
		t.Errorf("a second later, want one more line saying 249 were not logged:\n%s", logs)
	}
	if got := f.in.Stats().Refused["bad-signature"]; got != 251 {
		t.Errorf("counted %d bad-signature refusals, want 251", got)
	}
}

package natsstore

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/reportline/reportline/internal/fuzzseed"
	"github.com/reportline/reportline/relay/spool"
)

// FuzzEntryOf: whatever headers a message in the stream carries, reading
// it as a report either fails with an error or yields an entry that
// writes back to the same values.
func FuzzEntryOf(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, hotline, site, received, attempts, next, lastErr string) {
		h := nats.Header{}
		for k, v := range map[string]string{hdrHotline: hotline, hdrSite: site, hdrReceived: received,
			hdrAttempts: attempts, hdrNext: next, hdrLastErr: lastErr} {
			if v != "" {
				h.Set(k, v)
			}
		}
		e, err := entryOf("3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", h, []byte("body"), false)
		if err != nil {
			return
		}
		if e.Hotline != hotline || e.Site != site {
			t.Fatalf("entry %+v from hotline %q site %q", e, hotline, site)
		}
		back, err := entryOf(e.ID, header(e), e.Body, false)
		if err != nil {
			t.Fatalf("an entry read from headers does not read back: %v", err)
		}
		if !back.Received.Equal(e.Received) || back.Attempts != e.Attempts || !back.NextAttempt.Equal(e.NextAttempt) ||
			back.LastError != strings.Map(printable, e.LastError) {
			t.Fatalf("round trip changed the entry: %+v, then %+v", e, back)
		}
	})
}

// TestHeaderRoundTrip: a stored entry's headers read back to it.
func TestHeaderRoundTrip(t *testing.T) {
	e := spool.Entry{ID: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", Hotline: "h1", Site: "s1", Body: []byte("x"),
		Received: time.Unix(1_700_000_000, 0).UTC(), Attempts: 3, NextAttempt: time.Unix(1_700_000_100, 5).UTC(), LastError: "intake answered 503"}
	got, err := entryOf(e.ID, header(e), e.Body, false)
	if err != nil || got.Hotline != e.Hotline || got.Site != e.Site || !got.Received.Equal(e.Received) || got.Attempts != 3 ||
		!got.NextAttempt.Equal(e.NextAttempt) || got.LastError != e.LastError {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := entryOf(e.ID, nats.Header{}, nil, false); err == nil {
		t.Fatal("a message without headers read as a report")
	}
	if got.Urgent {
		t.Fatal("a message without the urgent header read as urgent")
	}
	e.Urgent = true
	h := header(e)
	if got, err := entryOf(e.ID, h, e.Body, false); err != nil || !got.Urgent {
		t.Fatalf("urgent: got %+v, %v", got, err)
	}
	h.Set(hdrUrgent, "yes")
	if _, err := entryOf(e.ID, h, e.Body, false); err == nil {
		t.Fatal("a message with an unknown urgent value read as a report")
	}
}

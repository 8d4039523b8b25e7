package intake

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testlog"
	"github.com/reportline/reportline/report"
)

// TestAlarms: each delivery a relay whose configuration or code was
// changed could send is refused with 422, stores nothing, is counted and
// reported to Alarm, and names what is wrong.
func TestAlarms(t *testing.T) {
	f := newFixture(t)
	var raised []*Alarm
	f.in.Alarm = func(a *Alarm) { raised = append(raised, a) }
	ours := f.in.Identities[0].(*age.HybridIdentity)
	extra, _ := age.GenerateHybridIdentity()
	classic, _ := age.GenerateX25519Identity()
	rcpts := func(ids ...string) *report.Recipients {
		rc, err := report.ParseRecipients(ids)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	// body seals r (id, hotline "h1", site "s1" unless edited) to rc and
	// wraps it in a delivery for site.
	body := func(id string, rc *report.Recipients, edit func(*report.Report), site string) []byte {
		r := &report.Report{Version: 1, ID: id, Hotline: "h1", Site: "s1", Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://example.com/x"}}, SeenOn: "website", Content: "video", Category: "csam"}
		if edit != nil {
			edit(r)
		}
		env, err := report.Seal(r, rc)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: time.Now().UTC(), Data: delivery.Data{
			ID: id, Hotline: "h1", Site: site, Received: time.Now().UTC(), Envelope: env}})
		return b
	}
	both := rcpts(ours.Recipient().String(), extra.Recipient().String())
	for i, tc := range []struct {
		name, kind, says string
		body             func(id string) []byte
	}{
		{"a recipient added", AlarmRecipients, "sealed to 2 recipients, the hotline has 1",
			func(id string) []byte { return body(id, both, nil, "s1") }},
		{"the key swapped", AlarmUnopenable, "does not open with the hotline's identity",
			func(id string) []byte { return body(id, rcpts(extra.Recipient().String()), nil, "s1") }},
		{"a classic key instead", AlarmRecipients, `the hotline's recipients are "mlkem768x25519"`,
			func(id string) []byte { return body(id, rcpts(classic.Recipient().String()), nil, "s1") }},
		{"another site signed", AlarmMismatch, `the sealed site "s1" differs from the site "s2" the relay signed`,
			func(id string) []byte { return body(id, f.rcpts, nil, "s2") }},
		{"another hotline sealed", AlarmMismatch, `the sealed hotline "h2" differs`,
			func(id string) []byte { return body(id, f.rcpts, func(r *report.Report) { r.Hotline = "h2" }, "s1") }},
		{"another report's envelope", AlarmMismatch, "differs from the delivered id",
			func(id string) []byte { return body(id, f.rcpts, func(r *report.Report) { r.ID = rid2 }, "s1") }},
	} {
		id := []string{"0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a01", "0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a02", "0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a03",
			"0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a04", "0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a05", "0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a06"}[i]
		rec := f.deliver(t, id, tc.body(id), time.Now(), f.signer)
		var p struct{ Detail string }
		json.Unmarshal(rec.Body.Bytes(), &p)
		if rec.Code != 422 || !strings.Contains(p.Detail, tc.says) {
			t.Errorf("%s: status %d, %s; want 422 saying %q", tc.name, rec.Code, rec.Body, tc.says)
		}
		if len(raised) != i+1 || raised[i].Report != id || raised[i].Kind != tc.kind {
			t.Errorf("%s: alarms raised %+v, want one of kind %s for %s", tc.name, raised, tc.kind, id)
		}
	}
	if got := files(t, f.inbox); len(got) != 0 {
		t.Errorf("refused deliveries left %v in the inbox", got)
	}
	if n := f.in.Alarms(); n != 6 {
		t.Errorf("Alarms() = %d, want 6", n)
	}

	// With the hotline's statement's two recipients expected, an envelope
	// sealed to both is stored; one sealed to ours alone is refused.
	f.in.Expect = []*report.Recipients{both}
	if rec := f.deliver(t, rid, body(rid, both, nil, "s1"), time.Now(), f.signer); rec.Code != 200 {
		t.Errorf("an envelope for the statement's recipients: status %d, %s", rec.Code, rec.Body)
	}
	if rec := f.deliver(t, rid2, f.payload(t, rid2), time.Now(), f.signer); rec.Code != 422 {
		t.Errorf("an envelope for fewer recipients than the statement's: status %d", rec.Code)
	}

	// During a rotation, from one recipient to two, both statements are
	// in force: an envelope sealed under either is stored, and one sealed
	// to a third key besides is still refused.
	f.in.Expect = []*report.Recipients{f.rcpts, both}
	const old, three = "0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a07", "0b3c3c9e-0a6f-4f7e-8d8e-1b1d5c3e7a08"
	if rec := f.deliver(t, old, f.payload(t, old), time.Now(), f.signer); rec.Code != 200 {
		t.Errorf("rotation: an envelope sealed under the old statement: status %d, %s", rec.Code, rec.Body)
	}
	third, _ := age.GenerateHybridIdentity()
	all := rcpts(ours.Recipient().String(), extra.Recipient().String(), third.Recipient().String())
	if rec := f.deliver(t, three, body(three, all, nil, "s1"), time.Now(), f.signer); rec.Code != 422 {
		t.Errorf("rotation: an envelope sealed to a key neither statement lists: status %d, %s", rec.Code, rec.Body)
	}
}

// The recipients expected from the identities are worked out once, and
// again when the identities change: a hybrid envelope that was expected
// raises an alarm once the identity is an X25519 one.
func TestExpectedFollowsIdentities(t *testing.T) {
	f := newFixture(t)
	if rec := f.deliver(t, rid, f.payload(t, rid), time.Now(), f.signer); rec.Code != 200 {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f.in.Identities = []age.Identity{x}
	const other = "6f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	if rec := f.deliver(t, other, f.payload(t, other), time.Now(), f.signer); rec.Code != 422 {
		t.Errorf("hybrid envelope for an X25519 identity: %d %s, want 422", rec.Code, rec.Body)
	}
}

// TestAlarmHints: an envelope sealed to other recipients than the
// hotline's can only come from a relay that was changed (the relay refuses
// such a body), but one that does not open, or whose sealed report names
// another site or id, can also be a report a sender sealed itself and
// posted with a proof of work, as anyone can: the hint says so, so that
// an operator does not take every such alarm for a changed relay.
func TestAlarmHints(t *testing.T) {
	for _, tt := range []struct {
		kind    string
		outside bool
	}{
		{AlarmRecipients, false},
		{AlarmUnopenable, true},
		{AlarmMismatch, true},
	} {
		hint := (&Alarm{Report: rid, Kind: tt.kind}).Hint()
		if !strings.Contains(hint, "relay") || !strings.Contains(hint, "relay spool ls") {
			t.Errorf("%s: hint %q does not point at the relay and the report it keeps", tt.kind, hint)
		}
		if got := strings.Contains(hint, "proof of work"); got != tt.outside {
			t.Errorf("%s: hint %q: names a sender of its own making %v, want %v", tt.kind, hint, got, tt.outside)
		}
	}
}

// TestAlarmOncePerReport delivers one report that raises an alarm five
// times, as the relay retries it (for a week, some 175 times): each
// attempt is refused and counted, but the alarm is raised (logged and
// told to Alarm) once for the report. A sender who posts such a report
// with one proof of work could otherwise make the intake raise an alarm
// at every retry.
func TestAlarmOncePerReport(t *testing.T) {
	f := newFixture(t)
	logs := &testlog.Buffer{}
	f.in.Log = slog.New(slog.NewJSONHandler(logs, nil))
	var raised []*Alarm
	f.in.Alarm = func(a *Alarm) { raised = append(raised, a) }
	d := f.data(t, rid, f.rcpts)
	d.Site = "s2" // the sealed report names s1
	start := time.Now()
	for i := range 5 {
		at := start.Add(time.Duration(i) * time.Second)
		b, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: at.UTC(), Data: d})
		if rec := f.deliver(t, rid, b, at, f.signer); rec.Code != 422 || !strings.Contains(rec.Body.String(), "/problems/tampered") {
			t.Fatalf("attempt %d: %d %s, want 422 tampered", i+1, rec.Code, rec.Body)
		}
	}
	if len(raised) != 1 || raised[0].Kind != AlarmMismatch {
		t.Errorf("Alarm told %d times, want once: %+v", len(raised), raised)
	}
	if n := strings.Count(logs.String(), "ALARM"); n != 1 {
		t.Errorf("%d ALARM lines for one report tried five times, want 1:\n%s", n, logs)
	}
	if n := f.in.Alarms(); n != 5 {
		t.Errorf("counted %d deliveries refused with an alarm, want 5", n)
	}
	// Another report is alarmed in its turn.
	other := f.data(t, rid2, f.rcpts)
	other.Site = "s2"
	b, _ := json.Marshal(delivery.Payload{Type: delivery.EventType, Timestamp: start.UTC(), Data: other})
	f.deliver(t, rid2, b, start, f.signer)
	if len(raised) != 2 {
		t.Errorf("a second report: Alarm told %d times in all, want 2", len(raised))
	}
}

package intake

import (
	"fmt"
	"net/http"
	"slices"
	"sync"

	"filippo.io/age"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/report"
)

// Kinds of alarm.
const (
	// AlarmRecipients: the envelope is sealed to another number or kind
	// of recipients than the hotline's own keys.
	AlarmRecipients = "recipients"
	// AlarmUnopenable: the envelope does not open with the hotline's
	// identity.
	AlarmUnopenable = "unopenable"
	// AlarmMismatch: the sealed report's id, hotline or site differ from
	// the signed delivery's.
	AlarmMismatch = "mismatch"
)

// Alarm is a delivery the intake refused because its envelope or report
// does not match the hotline's keys or the signed delivery: the sign of a
// relay whose configuration or code was changed to seal reports to
// another key, or to pass one report off as another. The intake answers
// it with 422, so the relay keeps the report (retried, then in its
// dead-letter area), and nothing of it is stored here.
//
// An envelope that does not open, or a report that names another site or
// id, can also be one a sender sealed itself and posted to the relay with
// a proof of work, as anyone can: the relay never sees what is sealed.
// Only other recipients is the relay's alone (it refuses such a body).
type Alarm struct {
	Report, Kind, Reason string
}

func (a *Alarm) Error() string {
	return fmt.Sprintf("delivery of report %s refused (%s): %s", a.Report, a.Kind, a.Reason)
}

// Hint says, in plain words, what may have caused the alarm and what to
// check first.
func (a *Alarm) Hint() string {
	const keeps = "the relay keeps this report (`relay spool ls` shows it)"
	if a.Kind == AlarmRecipients {
		return "the relay may have been changed to seal reports to another key; " + keeps + ": check its configuration and code before anything else"
	}
	return "the relay may have been changed, or a sender sealed this report itself and posted it with a proof of work, as anyone can; " + keeps +
		": check the relay's configuration and code; if they are unchanged and other reports arrive and open, it is such a sender"
}

// Alarms counts the deliveries refused with an alarm since start.
func (in *Intake) Alarms() uint64 { return in.alarms.Load() }

// checkEnvelope refuses an envelope sealed to another number or kind of
// recipients than the hotline's own, as any of its statements in force
// (or else its identities) list them.
func (in *Intake) checkEnvelope(p *delivery.Payload) *Alarm {
	wants := in.Expect
	if len(wants) == 0 {
		want, err := in.identityRecipients()
		if err != nil {
			return nil // identities of other kinds: the open decides
		}
		wants = []*report.Recipients{want}
	}
	var err error
	for _, want := range wants {
		if err = report.CheckEnvelope(p.Data.Envelope, want.Kind(), want.Len()); err == nil {
			return nil
		}
	}
	return &Alarm{Report: p.Data.ID, Kind: AlarmRecipients, Reason: err.Error()}
}

// identityRecipients returns the recipients of in.Identities, worked out
// once (an ML-KEM key's recipient costs about as much as opening a
// report), and again only if the identities change.
func (in *Intake) identityRecipients() (*report.Recipients, error) {
	if c := in.expected.Load(); c != nil && slices.Equal(c.ids, in.Identities) {
		return c.want, nil
	}
	want, err := recipientsOf(in.Identities)
	if err != nil {
		return nil, err
	}
	in.expected.Store(&identityCache{slices.Clone(in.Identities), want})
	return want, nil
}

// identityCache is the recipients of a list of identities.
type identityCache struct {
	ids  []age.Identity
	want *report.Recipients
}

// recipientsOf returns the recipients of age identities.
func recipientsOf(ids []age.Identity) (*report.Recipients, error) {
	var keys []string
	for _, id := range ids {
		switch k := id.(type) {
		case *age.HybridIdentity:
			keys = append(keys, k.Recipient().String())
		case *age.X25519Identity:
			keys = append(keys, k.Recipient().String())
		default:
			return nil, fmt.Errorf("identity of type %T", id)
		}
	}
	return report.ParseRecipients(keys)
}

// raise records an alarm: it logs and counts it and tells Alarm. It
// returns the problem the report is refused with, for the caller to
// answer (a single delivery) or to put in the report's result (one of a
// batch).
//
// The alarm is raised once for each report (and kind): the relay's further
// attempts at it, some 175 over a week, are refused and counted alike, but
// neither logged nor told to Alarm again, so that a sender who posts such
// a report with one proof of work (Alarm.Hint) cannot make the intake
// raise an alarm at every retry.
func (in *Intake) raise(a *Alarm) *problem.Problem {
	n := in.alarms.Add(1)
	if in.alarmed.first(a.Report + " " + a.Kind) {
		in.Log.Error("ALARM: delivery refused: its envelope or report does not match the hotline's keys or the signed delivery",
			"report", a.Report, "kind", a.Kind, "reason", a.Reason, "hint", a.Hint(), "alarms", n)
		if in.Alarm != nil {
			in.Alarm(a)
		}
	}
	return problem.New(http.StatusUnprocessableEntity, "tampered", "Delivery refused",
		a.Reason+"; the hotline has raised an alarm, and the relay keeps the report")
}

// maxAlarmed bounds the reports remembered as alarmed: past it the oldest
// is forgotten, and its next attempt raises the alarm again.
const maxAlarmed = 10_000

// alarmedSet remembers the reports an alarm was raised for.
type alarmedSet struct {
	mu    sync.Mutex
	seen  map[string]bool
	order []string // oldest first
}

// first records key and reports whether it was not there.
func (s *alarmedSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return false
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if len(s.order) == maxAlarmed {
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	s.seen[key] = true
	s.order = append(s.order, key)
	return true
}

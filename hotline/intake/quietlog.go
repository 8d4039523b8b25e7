package intake

import (
	"sync"
	"time"
)

// quietLog lets through one log line a second of the refusals that a
// sender without a key (or with a captured delivery to replay) can cause
// at will, and counts the others: the next line let through says how
// many were not logged. Every refusal is still counted in Stats. Without
// it such a sender could fill the disk under the log at the rate it sends
// requests.
type quietLog struct {
	mu      sync.Mutex
	next    time.Time // when the next line may be logged
	skipped int       // lines not logged since the last one
}

// allow reports whether a line may be logged at now, and if so how many
// were not logged since the last one that was.
func (q *quietLog) allow(now time.Time) (ok bool, skipped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Before(q.next) {
		q.skipped++
		return false, 0
	}
	skipped, q.skipped = q.skipped, 0
	q.next = now.Add(time.Second)
	return true, skipped
}

// warnRefused logs, at warn level, a refusal that a sender without a key
// can cause, as quietLog lets it.
func (in *Intake) warnRefused(now time.Time, msg string, args ...any) {
	ok, skipped := in.quiet.allow(now)
	if !ok {
		return
	}
	if skipped > 0 {
		args = append(args, "not_logged", skipped)
	}
	in.Log.Warn(msg, args...)
}

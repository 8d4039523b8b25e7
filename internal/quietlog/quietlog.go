// Package quietlog keeps the log lines that anyone can cause at will (a
// request refused before anything shows who sent it) to one a second of
// each kind: the others are counted, and the next line let through says
// how many were left out. Without it a sender could fill the disk under a
// server's log at the rate it sends requests; servers count every refusal
// in their metrics besides. A limiter may let lines through less often
// (the relay's forwarder logs a failing spool once every ten seconds).
package quietlog

import (
	"sync"
	"time"
)

// Interval is how often a line of one kind is let through at most.
const Interval = time.Second

// SkippedKey is the name of the attribute that says how many lines of the
// kind were left out since the last one let through.
const SkippedKey = "not_logged"

// Limiter decides which lines of each kind are logged. Its zero value is
// ready to use. The kinds must be few (a fixed set, such as problem
// names): each is remembered.
type Limiter struct {
	// Every is how often a line of one kind is let through at most;
	// zero means Interval.
	Every time.Duration

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	next    time.Time // when the next line may be logged
	skipped int       // lines left out since the last one
}

// Allow reports whether a line of kind k may be logged at now, and if so
// how many lines of that kind were left out since the last one that was.
func (l *Limiter) Allow(k string, now time.Time) (ok bool, skipped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kinds == nil {
		l.kinds = map[string]*kind{}
	}
	s := l.kinds[k]
	if s == nil {
		s = &kind{}
		l.kinds[k] = s
	}
	if now.Before(s.next) {
		s.skipped++
		return false, 0
	}
	skipped, s.skipped = s.skipped, 0
	every := l.Every
	if every == 0 {
		every = Interval
	}
	s.next = now.Add(every)
	return true, skipped
}

// Args returns args with the count of lines left out added, if any.
func Args(skipped int, args ...any) []any {
	if skipped > 0 {
		return append(args, SkippedKey, skipped)
	}
	return args
}

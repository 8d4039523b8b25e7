package forward

import (
	"log/slog"
	"sync"
	"time"
)

// errorLogEvery is how often one kind of spool failure is logged; the
// failures in between are counted into the next line.
const errorLogEvery = 10 * time.Second

// errorLog aggregates repeated spool failures: when the disk is full,
// every report fails the same way, and one line per failure would flood
// the log (and fill the disk that is already full).
type errorLog struct {
	mu   sync.Mutex
	last map[string]time.Time // by message: when it was last logged
	n    map[string]int       // by message: failures since
	now  func() time.Time     // for tests
}

// log logs msg with err at error level, at most once per errorLogEvery per
// msg, with the number of failures since the last line.
func (l *errorLog) log(log *slog.Logger, msg string, err error) {
	l.mu.Lock()
	if l.last == nil {
		l.last, l.n = map[string]time.Time{}, map[string]int{}
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	l.n[msg]++
	if last, ok := l.last[msg]; ok && now.Sub(last) < errorLogEvery {
		l.mu.Unlock()
		return
	}
	n := l.n[msg]
	l.last[msg], l.n[msg] = now, 0
	l.mu.Unlock()
	log.Error(msg, "err", err, "failures", n, "per", errorLogEvery.String())
}

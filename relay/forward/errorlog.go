package forward

import (
	"log/slog"
	"sync"
	"time"

	"github.com/reportline/reportline/internal/quietlog"
)

// errorLogEvery is how often one kind of spool failure is logged; the
// failures in between are counted into the next line.
const errorLogEvery = 10 * time.Second

// errorLog aggregates repeated spool failures: when the disk is full,
// every report fails the same way, and one line per failure would flood
// the log (and fill the disk that is already full).
type errorLog struct {
	once  sync.Once        // sets quiet.Every, so the zero value works
	quiet quietlog.Limiter // by message
	now   func() time.Time // for tests
}

// log logs msg with err at error level, at most once per errorLogEvery per
// msg, with the number of failures since the last line, this one
// included.
func (l *errorLog) log(log *slog.Logger, msg string, err error) {
	l.once.Do(func() { l.quiet.Every = errorLogEvery })
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	if ok, skipped := l.quiet.Allow(msg, now); ok {
		log.Error(msg, "err", err, "failures", skipped+1, "per", errorLogEvery.String())
	}
}

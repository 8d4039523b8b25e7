package pow

import (
	"sync"
	"time"
)

// Difficulty chooses the maxnumber of new challenges. It starts at a base
// level; at the end of each minute in which more challenges were issued or
// more reports accepted than the configured levels, it doubles, up to a
// maximum; after each calm minute (at most half of both levels) it halves,
// back down to the base. A flood thus costs its sender more work within a
// minute or two, and people reporting afterwards wait no longer than usual.
type Difficulty struct {
	mu                  sync.Mutex
	base, max, level    int64
	challengesPerMinute int
	reportsPerMinute    int
	challenges, reports int
	windowStart         time.Time
	now                 func() time.Time
}

// difficultyWindow is the period over which load is counted.
const difficultyWindow = time.Minute

// NewDifficulty returns a difficulty at base, raised towards max when more
// than challengesPerMinute challenges are issued or more than
// reportsPerMinute reports accepted in a minute.
func NewDifficulty(base, max int64, challengesPerMinute, reportsPerMinute int) *Difficulty {
	return &Difficulty{
		base: base, max: max, level: base,
		challengesPerMinute: challengesPerMinute, reportsPerMinute: reportsPerMinute,
		now: time.Now, windowStart: time.Now(),
	}
}

// SetClock replaces the clock and starts a new window; for tests.
func (d *Difficulty) SetClock(now func() time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now, d.windowStart = now, now()
}

// Level returns the maxnumber for a new challenge.
func (d *Difficulty) Level() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.advance()
	return d.level
}

// NoteChallenge counts an issued challenge.
func (d *Difficulty) NoteChallenge() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.advance()
	d.challenges++
}

// NoteReport counts an accepted report.
func (d *Difficulty) NoteReport() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.advance()
	d.reports++
}

// advance closes every window that has ended, adjusting the level once
// for each.
func (d *Difficulty) advance() {
	now := d.now()
	if now.Sub(d.windowStart) > 64*difficultyWindow {
		// Idle for over an hour: every halving has long happened.
		d.level, d.challenges, d.reports, d.windowStart = d.base, 0, 0, now
		return
	}
	for now.Sub(d.windowStart) >= difficultyWindow {
		busy := d.challenges > d.challengesPerMinute || d.reports > d.reportsPerMinute
		calm := d.challenges <= d.challengesPerMinute/2 && d.reports <= d.reportsPerMinute/2
		switch {
		case busy:
			d.level = min(d.level*2, d.max)
		case calm:
			d.level = max(d.level/2, d.base)
		}
		d.challenges, d.reports = 0, 0
		d.windowStart = d.windowStart.Add(difficultyWindow)
	}
}

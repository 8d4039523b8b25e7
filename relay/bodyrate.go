package relay

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultBodyGrace is how long a report body may take before the minimum
// body rate (relay.limits.min_body_rate) applies: a connection's slow
// start, a phone waking its radio.
const DefaultBodyGrace = 5 * time.Second

// rateGuard cuts off a request body that arrives slower than a minimum
// rate: once the grace period is over, the bytes read must keep up, on
// average since the start, with rate bytes a second. Without it a sender
// could hold a body slot for the whole read timeout with a byte a minute.
//
// It cuts by setting the connection's read deadline to now, which makes
// the pending read fail as the server's own read timeout would; it never
// moves a deadline later.
type rateGuard struct {
	r       io.Reader
	rc      *http.ResponseController
	start   time.Time
	grace   time.Duration
	rate    float64 // bytes a second
	n       int64
	timer   *time.Timer
	tripped atomic.Bool
}

// guardRate starts guarding body, read through w's connection. Call stop
// when the body has been read.
func guardRate(w http.ResponseWriter, body io.Reader, grace time.Duration, rate int) *rateGuard {
	g := &rateGuard{r: body, rc: http.NewResponseController(w), start: time.Now(), grace: grace, rate: float64(rate)}
	g.timer = time.AfterFunc(g.due(), g.trip)
	return g
}

// Read implements io.Reader.
func (g *rateGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.n += int64(n)
	switch {
	case err != nil:
		// The body has ended (or failed): nothing more to guard, and
		// net/http may already be reading the connection for the next
		// request.
		g.timer.Stop()
	case n > 0:
		g.timer.Reset(g.due())
	}
	return n, err
}

// due is how long from now the body may go without another byte.
func (g *rateGuard) due() time.Duration {
	allowed := g.grace + time.Duration(float64(g.n)/g.rate*float64(time.Second))
	return time.Until(g.start.Add(allowed))
}

func (g *rateGuard) trip() {
	g.tripped.Store(true)
	// Not every ResponseWriter can (a test's recorder cannot); the
	// server's read timeout still applies then.
	g.rc.SetReadDeadline(time.Now())
}

// stop ends the guard; it reports whether the guard cut the body off.
func (g *rateGuard) stop() (cut bool) {
	g.timer.Stop()
	return g.tripped.Load()
}

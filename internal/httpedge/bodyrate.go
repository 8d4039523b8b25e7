package httpedge

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// RateGuard cuts off a request body that arrives slower than a minimum
// rate: once the grace period is over, the bytes read must keep up, on
// average since the start, with rate bytes a second. Without it a sender
// could hold a connection, busy, for the server's whole read timeout with
// a byte a minute.
//
// It cuts by setting the connection's read deadline to now, which makes
// the pending read fail as the server's own read timeout would; it never
// moves a deadline later. Unlike the read timeout, which the write
// timeout usually matches, it leaves time to answer.
type RateGuard struct {
	r       io.Reader
	rc      *http.ResponseController
	start   time.Time
	grace   time.Duration
	rate    float64 // bytes a second
	n       int64
	timer   *time.Timer
	tripped atomic.Bool
}

// GuardRate starts guarding body, read through w's connection. Call Stop
// when the body has been read.
func GuardRate(w http.ResponseWriter, body io.Reader, grace time.Duration, rate int) *RateGuard {
	g := &RateGuard{r: body, rc: http.NewResponseController(w), start: time.Now(), grace: grace, rate: float64(rate)}
	g.timer = time.AfterFunc(g.due(), g.trip)
	return g
}

// Read implements io.Reader.
func (g *RateGuard) Read(p []byte) (int, error) {
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
func (g *RateGuard) due() time.Duration {
	allowed := g.grace + time.Duration(float64(g.n)/g.rate*float64(time.Second))
	return time.Until(g.start.Add(allowed))
}

func (g *RateGuard) trip() {
	g.tripped.Store(true)
	// Not every ResponseWriter can (a test's recorder cannot); the
	// server's read timeout still applies then.
	g.rc.SetReadDeadline(time.Now())
}

// Stop ends the guard; it reports whether the guard cut the body off.
func (g *RateGuard) Stop() (cut bool) {
	g.timer.Stop()
	return g.tripped.Load()
}

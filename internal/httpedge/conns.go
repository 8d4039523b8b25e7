package httpedge

import (
	"container/list"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// ConnLimit bounds the connections an http.Server holds open, and with
// them its memory and goroutines (each connection holds a goroutine and
// about 10 KB of buffers): a client that opens connections and leaves
// them idle, or sends its headers a byte at a time, cannot make the
// server hold more than Max.
//
// At the bound, a new connection makes room by closing the connection
// that has waited longest without a request under way: one that has not
// finished sending its headers, or a keep-alive one between requests.
// Those are cheap to lose (a browser opens another), and an honest
// client, whose request follows its connection at once, is the last to
// be closed. Only when every connection has a request under way is a new
// one closed at once, unanswered.
//
// Serve with Listener(ln) and set the server's ConnState to ConnState.
type ConnLimit struct {
	// Max is the most connections held open; 0 means no bound.
	Max int

	mu      sync.Mutex
	open    int
	waiting *list.List                 // connections without a request under way, oldest first
	elems   map[net.Conn]*list.Element // their places in waiting
	evicted atomic.Uint64
	refused atomic.Uint64
}

// Evicted is how many connections were closed to make room for new ones.
func (l *ConnLimit) Evicted() uint64 { return l.evicted.Load() }

// Refused is how many new connections were closed at once because every
// connection held had a request under way.
func (l *ConnLimit) Refused() uint64 { return l.refused.Load() }

// Open is how many connections are held open.
func (l *ConnLimit) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Busy is how many connections have a request under way.
func (l *ConnLimit) Busy() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	return l.open - l.waiting.Len()
}

// Listener returns ln with the bound applied to the connections it
// accepts.
func (l *ConnLimit) Listener(ln net.Listener) net.Listener { return &limitListener{ln, l} }

type limitListener struct {
	net.Listener
	l *ConnLimit
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ll.l.admit() {
			return c, nil
		}
		ll.l.refused.Add(1)
		c.Close()
	}
}

// admit counts a new connection, closing the longest-waiting one if the
// bound is reached; it reports false if there is none to close.
func (l *ConnLimit) admit() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if l.Max > 0 && l.open >= l.Max {
		front := l.waiting.Front()
		if front == nil {
			return false
		}
		c := l.waiting.Remove(front).(net.Conn)
		delete(l.elems, c)
		// The server's goroutine for c reads the close and reports
		// StateClosed, which counts it out; until then the bound is
		// exceeded by one.
		c.Close()
		l.evicted.Add(1)
	}
	l.open++
	return true
}

func (l *ConnLimit) init() {
	if l.waiting == nil {
		l.waiting = list.New()
		l.elems = map[net.Conn]*list.Element{}
	}
}

// ConnState is the http.Server's ConnState hook that tells the limit
// which connections have a request under way.
func (l *ConnLimit) ConnState(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if e, ok := l.elems[c]; ok {
		l.waiting.Remove(e)
		delete(l.elems, c)
	}
	switch s {
	case http.StateNew, http.StateIdle:
		l.elems[c] = l.waiting.PushBack(c)
	case http.StateClosed, http.StateHijacked:
		l.open--
	}
}

// Package natstest runs NATS JetStream servers in the test's process, on
// loopback, for the relay's store tests: one server, or a cluster of
// three whose routes pass through proxies the test can cut, to partition
// a server away and heal it. Every server fsyncs each write
// (sync_interval: always), as docs/scaling.md requires in production.
package natstest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a set of in-process servers.
type Cluster struct {
	t       testing.TB
	dir     string
	name    string
	ports   []int // client ports
	routes  []int // route (cluster) ports
	servers []*server.Server
	proxies []*proxy // in front of each server's route port

	mu    sync.Mutex
	cut   map[int]bool        // servers partitioned away
	conns map[*routeConn]bool // route connections through the proxies
}

// routeConn is a route connection through a proxy: to server `to`, from
// the server whose id the dialer's CONNECT named.
type routeConn struct {
	to     int
	fromID string
	a, b   net.Conn
}

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start starts n servers (1, or 3 for a cluster) and waits until they are
// ready; they stop when the test ends.
func Start(t testing.TB, n int) *Cluster { return start(t, n, -1) }

// StartWithout starts the servers of an n-server cluster but server down,
// which has never run until Restart starts it, and waits until the others
// are ready: a cluster that has not yet seen all of its servers.
func StartWithout(t testing.TB, n, down int) *Cluster { return start(t, n, down) }

func start(t testing.TB, n, down int) *Cluster {
	c := &Cluster{t: t, dir: t.TempDir(), name: "rl", cut: map[int]bool{}, conns: map[*routeConn]bool{}}
	// The proxies listen first, so that the ports picked for the servers
	// cannot be theirs.
	used := map[int]bool{}
	if n > 1 {
		for i := range n {
			p := c.newProxy(i)
			c.proxies = append(c.proxies, p)
			used[p.ln.Addr().(*net.TCPAddr).Port] = true
		}
	}
	pick := func() int {
		for {
			if p := freePort(t); !used[p] {
				used[p] = true
				return p
			}
		}
	}
	for range n {
		c.ports = append(c.ports, pick())
		c.routes = append(c.routes, pick())
	}
	c.servers = make([]*server.Server, n)
	for i := range n {
		if i != down {
			c.start(i)
		}
	}
	t.Cleanup(c.StopAll)
	c.WaitReady()
	return c
}

func (c *Cluster) options(i int) *server.Options {
	o := &server.Options{
		ServerName: fmt.Sprintf("n%d", i),
		Host:       "127.0.0.1",
		Port:       c.ports[i],
		JetStream:  true,
		StoreDir:   filepath.Join(c.dir, fmt.Sprintf("n%d", i)),
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
		// Short so that a killed server is noticed and a new leader
		// elected within a test's patience.
		PingInterval:       time.Second,
		MaxPingsOut:        2,
		JetStreamMaxStore:  256 << 20,
		JetStreamMaxMemory: 64 << 20,
	}
	if len(c.ports) > 1 {
		// Each server advertises its proxy as its route address, so that
		// every route, explicit or learnt from another server, passes
		// through a proxy.
		o.Cluster = server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: c.routes[i], Advertise: c.proxies[i].addr()}
		var routes []string
		for j := range c.ports {
			if j != i {
				routes = append(routes, "nats://"+c.proxies[j].addr())
			}
		}
		o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
	}
	return o
}

func (c *Cluster) start(i int) {
	s, err := server.NewServer(c.options(i))
	if err != nil {
		c.t.Fatalf("start nats server %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		c.t.Fatalf("nats server %d not ready within 30s", i)
	}
	c.servers[i] = s
}

// WaitReady waits until every running server reports itself healthy,
// JetStream included (a cluster has elected its meta leader).
func (c *Cluster) WaitReady() {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var bad error
		for i, s := range c.servers {
			if s == nil {
				continue
			}
			if h := s.Healthz(&server.HealthzOptions{JSEnabledOnly: false}); h.Status != "ok" {
				bad = fmt.Errorf("server %d: %s %s", i, h.Status, h.Error)
			}
		}
		if bad == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("nats cluster not healthy within 60s: %v", bad)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not a synchronisation by delay
	}
}

// URLs are the client URLs of every server, running or not.
func (c *Cluster) URLs() []string {
	var out []string
	for _, p := range c.ports {
		out = append(out, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	return out
}

// Kill stops server i at once, as a crash would (its files stay).
func (c *Cluster) Kill(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Restart starts server i again on its ports and files.
func (c *Cluster) Restart(i int) {
	c.start(i)
}

// Partition cuts server i's routes to and from every other server, and
// waits until it has none; its clients stay connected to it.
func (c *Cluster) Partition(i int) {
	c.setCut(i, true)
	deadline := time.Now().Add(30 * time.Second)
	for c.servers[i].NumRoutes() > 0 {
		if time.Now().After(deadline) {
			c.t.Fatalf("server %d still has %d routes 30s after its partition", i, c.servers[i].NumRoutes())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's state
	}
}

// Heal restores server i's routes and waits until it has one to each
// other server.
func (c *Cluster) Heal(i int) {
	c.setCut(i, false)
	deadline := time.Now().Add(60 * time.Second)
	for c.servers[i].NumRoutes() < len(c.servers)-1 {
		if time.Now().After(deadline) {
			c.t.Fatalf("server %d has %d routes 60s after healing", i, c.servers[i].NumRoutes())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's state
	}
}

func (c *Cluster) setCut(i int, cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !cut {
		delete(c.cut, i)
		return
	}
	c.cut[i] = true
	for rc := range c.conns {
		if c.blocked(rc) {
			rc.a.Close()
			rc.b.Close()
		}
	}
}

// blocked reports whether a route connection crosses the partition;
// c.mu is held.
func (c *Cluster) blocked(rc *routeConn) bool {
	if c.cut[rc.to] {
		return true
	}
	for i, s := range c.servers {
		if c.cut[i] && s != nil && s.ID() == rc.fromID {
			return true
		}
	}
	return false
}

// StopAll stops every server and proxy.
func (c *Cluster) StopAll() {
	for i := range c.servers {
		c.Kill(i)
	}
	for _, p := range c.proxies {
		p.ln.Close()
	}
}

// proxy forwards route connections to one server's route port.
type proxy struct {
	c  *Cluster
	to int
	ln net.Listener
}

func (c *Cluster) newProxy(to int) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	p := &proxy{c: c, to: to, ln: ln}
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		conn, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.handle(conn)
	}
}

var nameRE = regexp.MustCompile(`"name":"([^"]+)"`)

// handle forwards one connection. The server answers first (INFO); the
// dialer's first line is its CONNECT, which names it.
func (p *proxy) handle(a net.Conn) {
	b, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.c.routes[p.to]), 5*time.Second)
	if err != nil {
		a.Close()
		return
	}
	rc := &routeConn{to: p.to, a: a, b: b}
	defer func() {
		a.Close()
		b.Close()
		p.c.mu.Lock()
		delete(p.c.conns, rc)
		p.c.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	go func() { io.Copy(a, b); done <- struct{}{} }()
	r := bufio.NewReader(a)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	if m := nameRE.FindStringSubmatch(line); m != nil {
		rc.fromID = m[1]
	}
	p.c.mu.Lock()
	if p.c.blocked(rc) {
		p.c.mu.Unlock()
		return
	}
	p.c.conns[rc] = true
	p.c.mu.Unlock()
	if _, err := io.WriteString(b, line); err != nil {
		return
	}
	go func() { io.Copy(b, r); done <- struct{}{} }()
	<-done
}

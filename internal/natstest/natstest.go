// Package natstest runs NATS JetStream servers in the test's process, on
// loopback, for the relay's store tests: one server, or a cluster of
// three whose routes pass through proxies the test can cut, to partition
// a server away and heal it. Every server fsyncs each write
// (sync_interval: always), as docs/scaling.md requires in production.
package natstest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
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
	proxies map[[2]int]*proxy // [from, to] → the proxy from's route to `to` dials
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
func Start(t testing.TB, n int) *Cluster {
	c := &Cluster{t: t, dir: t.TempDir(), name: "rl", proxies: map[[2]int]*proxy{}}
	for range n {
		c.ports = append(c.ports, freePort(t))
		c.routes = append(c.routes, freePort(t))
	}
	if n > 1 {
		for i := range n {
			for j := range n {
				if i != j {
					c.proxies[[2]int{i, j}] = newProxy(t, fmt.Sprintf("127.0.0.1:%d", c.routes[j]))
				}
			}
		}
	}
	c.servers = make([]*server.Server, n)
	for i := range n {
		c.start(i)
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
		// NoAdvertise: servers learn no other route than the proxies, so
		// cutting a proxy cuts the route.
		o.Cluster = server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: c.routes[i], NoAdvertise: true}
		var routes []string
		for j := range c.ports {
			if j != i {
				routes = append(routes, "nats://"+c.proxies[[2]int{i, j}].addr())
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
	for k, p := range c.proxies {
		if k[0] == i || k[1] == i {
			p.setCut(cut)
		}
	}
}

// StopAll stops every server and proxy.
func (c *Cluster) StopAll() {
	for i := range c.servers {
		c.Kill(i)
	}
	for _, p := range c.proxies {
		p.close()
	}
}

// proxy forwards TCP connections to a target until cut; cutting closes
// the connections under way and refuses new ones.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.handle(c)
	}
}

func (p *proxy) handle(c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); done <- struct{}{} }()
	go func() { io.Copy(c, u); done <- struct{}{} }()
	<-done
	c.Close()
	u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.setCut(true)
}

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/rawhttp"
)

// TestMetricsPrivateByDefault: the relay's public listener does not serve
// /metrics, whose counters would tell anyone when each report arrives and
// tell a bot that the honeypot caught it; metrics_listen serves it, and
// metrics_on_listen puts it on the main listener only when asked.
func TestMetricsPrivateByDefault(t *testing.T) {
	client := &http.Client{Timeout: time.Minute}
	metricsAt := func(t *testing.T, base string) (int, string) {
		t.Helper()
		code, body, _, err := get(client, base+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return code, body
	}
	for _, tt := range []struct {
		name, extra string
		main        int // the main listener's answer to /metrics
		apart       bool
	}{
		{"default", "", 404, false},
		{"metrics_listen", `metrics_listen = "127.0.0.1:0"`, 404, true},
		{"metrics_on_listen", `metrics_on_listen = true`, 200, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t)
			s.write(t, tt.extra, "")
			r := start(t, s)
			code, body := metricsAt(t, "http://"+r.addr("http"))
			if code != tt.main {
				t.Fatalf("/metrics on the main listener: %d, want %d: %.200s", code, tt.main, body)
			}
			if code == 200 && !strings.Contains(body, "reportline_config_loaded 1") {
				t.Errorf("/metrics served without the relay's metrics: %.200s", body)
			}
			if code == 404 && !strings.Contains(body, "metrics_listen") {
				t.Errorf("the 404 does not say where metrics are served: %s", body)
			}
			if !tt.apart {
				if a := r.addr("metrics"); a != "" {
					t.Fatalf("a metrics listener on %s without metrics_listen", a)
				}
				return
			}
			code, body = metricsAt(t, "http://"+r.addr("metrics"))
			if code != 200 || !strings.Contains(body, "reportline_config_loaded 1") {
				t.Fatalf("/metrics on metrics_listen: %d %.200s", code, body)
			}
			// The bbolt spool's commits are read at each scrape.
			for _, want := range []string{"\nreportline_spool_commits_total ", "\nreportline_spool_commit_seconds_total "} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
				}
			}
		})
	}
}

// TestMetricsListenerHostile sends the metrics listener what Prometheus
// never sends: each is refused with a problem, as on the main listener,
// and the listener still serves the metrics right after.
func TestMetricsListenerHostile(t *testing.T) {
	s := newSetup(t)
	s.write(t, `metrics_listen = "127.0.0.1:0"`, "")
	addr := start(t, s).addr("metrics")
	get := func(target string) string {
		return rawhttp.Request("GET", target)
	}
	for _, tt := range []struct {
		name, req string
		status    int
		ptype     string
		allow     string
	}{
		{"unknown path", get("/nope"), 404, "not-found", ""},
		{"a route of the main listener", get("/embed.js"), 404, "not-found", ""},
		{"POST /metrics", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405, "method-not-allowed", "GET, HEAD"},
		{"DELETE /readyz", rawhttp.Request("DELETE", "/readyz"), 405, "method-not-allowed", "GET, HEAD"},
		{"OPTIONS /healthz", rawhttp.Request("OPTIONS", "/healthz"), 405, "method-not-allowed", "GET, HEAD"},
		{"dot-dot", get("/x/../metrics"), 400, "bad-path", ""},
		{"encoded dot-dot", get("/%2e%2e/metrics"), 400, "bad-path", ""},
		{"large headers", "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 20<<10) + "\r\nConnection: close\r\n\r\n", 431, "headers-too-large", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawhttp.Send(t, addr, tt.req)
			rawhttp.ExpectRefusal(t, resp, body, tt.status, tt.ptype, tt.allow)
		})
	}
	if resp, body := rawhttp.Send(t, addr, get("/metrics")); resp.StatusCode != 200 || !strings.Contains(string(body), "reportline_config_loaded 1") {
		t.Fatalf("/metrics after the hostile requests: %d %.200s", resp.StatusCode, body)
	}
}

// TestConnectionBound holds more idle connections to the relay than
// relay.max_connections allows: the relay closes the oldest to serve each
// new client, says so on /metrics, and serves a visitor right after.
func TestConnectionBound(t *testing.T) {
	s := newSetup(t)
	s.write(t, "max_connections = 16\nmetrics_listen = \"127.0.0.1:0\"", "")
	r := start(t, s)
	addr := r.addr("http")
	// Keep-alive connections left idle after a request: only the bound
	// closes them within the test (the idle timeout is two minutes).
	var conns []net.Conn
	for range 48 {
		c, err := rawhttp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /healthz: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		conns = append(conns, c)
	}
	// The first connections were closed to make room for the later ones.
	conns[0].SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := conns[0].Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the oldest idle connection is still open past the bound: %v", err)
	}
	if resp, body := rawhttp.Send(t, addr, rawhttp.Request("GET", "/w/s1")); resp.StatusCode != 200 {
		t.Fatalf("the frame at the bound: %d %.200s", resp.StatusCode, body)
	}
	_, body := rawhttp.Send(t, r.addr("metrics"), rawhttp.Request("GET", "/metrics"))
	m := regexp.MustCompile(`(?m)^reportline_connections_evicted_total\{listener="http"\} (\d+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics lacks reportline_connections_evicted_total for the main listener")
	}
	if n, _ := strconv.Atoi(string(m[1])); n < 32 {
		t.Errorf("%d connections evicted, want at least 32 of 48 over a bound of 16", n)
	}
}

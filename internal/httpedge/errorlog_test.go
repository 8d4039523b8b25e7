package httpedge

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/rawhttp"
	"github.com/reportline/reportline/internal/testcert"
	"github.com/reportline/reportline/internal/testlog"
)

// TestErrorLogQuiet makes 100 TLS handshakes fail, each of which makes
// net/http write a line to its error log: anyone can cause them at will,
// so the log gets one a second, the next saying how many were left out,
// and none names the client.
func TestErrorLogQuiet(t *testing.T) {
	logs := &testlog.Buffer{}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, _, _ := testcert.NewCA(t, "test CA").Issue(t, "127.0.0.1", true)
	closed := make(chan struct{}, 128)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog:  errorLog(slog.New(slog.NewJSONHandler(logs, nil)), clock),
		// A connection is closed once its handshake error is logged.
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				closed <- struct{}{}
			}
		}}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	failHandshakes := func(n int) {
		t.Helper()
		for range n {
			c, err := rawhttp.Dial(ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("\x16\x03\x01\x00\x05hello"))
			c.Close()
		}
		for range n {
			select {
			case <-closed:
			case <-time.After(time.Minute):
				t.Fatalf("a failed handshake's connection not closed after a minute:\n%s", logs)
			}
		}
	}
	failHandshakes(100)
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	failHandshakes(1)
	out := logs.String()
	if n := strings.Count(out, "TLS handshake error"); n != 2 {
		t.Errorf("%d lines for 101 failed handshakes over two seconds, want 2:\n%.2000s", n, out)
	}
	if !strings.Contains(out, `"not_logged":99`) {
		t.Errorf("the second line does not say that 99 were left out:\n%.2000s", out)
	}
	if strings.Contains(out, rawhttp.Client) {
		t.Errorf("a line names the client:\n%s", out)
	}
}

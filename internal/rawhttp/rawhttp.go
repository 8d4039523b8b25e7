// Package rawhttp is for tests that send a server what no well-behaved
// client sends: a request written byte for byte on a loopback socket, and
// a wait for the server's connection goroutines to end. Nothing outside
// tests should import it.
package rawhttp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// Client is the loopback address every connection of Dial and Send comes
// from. Servers under test listen on 127.0.0.1, so a test finds the
// client's address in a log by looking for this one.
const Client = "127.0.0.2"

// Dial connects to addr from Client.
func Dial(addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(Client)}}
	return d.Dial("tcp", addr)
}

// Send writes req, a whole HTTP request as bytes, to addr from Client and
// reads the answer. The test's deadline (15 s) only bounds a server that
// would not answer.
func Send(t testing.TB, addr, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to %.80q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// ExpectProblem checks that an answer is the RFC 9457 problem+json of the
// given status and type name, with a title and a detail.
func ExpectProblem(t testing.TB, resp *http.Response, body []byte, status int, name string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type %q: %.200s", ct, body)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Type != "https://reportline.dev/problems/"+name ||
		p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem %.300s (%v), want type %s with a title and a detail", body, err, name)
	}
}

// ExpectRefusal is ExpectProblem, and checks that the answer's Allow
// header is allow exactly: the methods a 405 names, none otherwise.
func ExpectRefusal(t testing.TB, resp *http.Response, body []byte, status int, name, allow string) {
	t.Helper()
	ExpectProblem(t, resp, body, status, name)
	if got := resp.Header.Get("Allow"); got != allow {
		t.Errorf("Allow %q, want %q", got, allow)
	}
}

// WaitGoroutines waits until no more goroutines run than baseline, as
// they should once every connection a test opened is closed: a server's
// connection goroutine ends when it reads the close. The limit of a
// minute only bounds a server that would keep them.
func WaitGoroutines(t testing.TB, baseline int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines a minute after the connections closed, %d before:\n%s",
				runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}

// Answers writes req to addr from Client and reads until the server
// closes the connection; it counts the answers read. A server that keeps
// the connection open past a minute fails the test.
func Answers(t testing.TB, addr, req string) (n int, got []byte) {
	t.Helper()
	conn, err := Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	io.WriteString(conn, req)
	got, err = io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the connection stayed open after the answer: %v; read %q", err, got)
	}
	return bytes.Count(got, []byte("HTTP/1.1 ")), got
}

// Request is a request without a body for method and target, which asks
// the server to close the connection after its answer.
func Request(method, target string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
}

// Smuggled is a request with both Content-Length and Transfer-Encoding:
// chunked, with a second request for path hidden where the Content-Length
// says the body ends, for method and target.
func Smuggled(method, target, headers, path string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
		"GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"
}

// Package httpedge holds what every HTTP server of the project does at its
// edge, before a request reaches the handler that serves it: requests no
// client of the project sends are refused with an RFC 9457 problem
// (package problem) that says what was wrong, and net/http's own error
// lines lose their client addresses (ErrorLog). The relay, its metrics
// listener, the hotline's intake and `hotline serve-frame` all use it.
//
// What net/http refuses before any handler runs (a malformed request
// line, a repeated Content-Length or Host, a header over the server's
// MaxHeaderBytes, an unknown Transfer-Encoding) it answers itself, in
// plain text, and closes the connection; docs/abuse.md lists those.
package httpedge

import (
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/reportline/reportline/internal/problem"
)

// HeaderBytes is the size of r's request line and headers, about as they
// were sent.
func HeaderBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// Check returns the problem with r that no handler of the project should
// see, or nil: headers over maxHeader bytes (431), a path that is not in
// its canonical form (400: "..", "." or empty segments, encoded or not,
// which a client of the project never sends and a file server must never
// be asked to resolve), or a body in a Content-Encoding (415: bodies are
// never decompressed, so that a small compressed body cannot become a
// large one).
//
// An HTTP/1 request with a chunked body is answered with Connection:
// close, whatever the answer. net/http drops a Content-Length sent beside
// Transfer-Encoding and reads the body chunked; a proxy in front that went
// by the Content-Length would take what follows the chunks for the body,
// so a request hidden there must not be served (RFC 9112, section 6.3).
// No client of the project sends a chunked body.
func Check(w http.ResponseWriter, r *http.Request, maxHeader int) *problem.Problem {
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
	}
	if HeaderBytes(r) > maxHeader {
		return problem.New(http.StatusRequestHeaderFieldsTooLarge, "headers-too-large", "Request headers too large",
			"the request line and headers are larger than the limit of "+strconv.Itoa(maxHeader)+" bytes; send fewer or shorter headers")
	}
	if !Canonical(r.URL.Path) {
		return problem.New(http.StatusBadRequest, "bad-path", "Path not in canonical form",
			"the path has an empty, \".\" or \"..\" segment (perhaps percent-encoded); ask for the path itself, as the documentation gives it")
	}
	if ce := r.Header.Values("Content-Encoding"); len(ce) > 1 || len(ce) == 1 && ce[0] != "identity" {
		return problem.New(http.StatusUnsupportedMediaType, "bad-content-encoding", "Content-Encoding not accepted",
			"send the body as it is, without a Content-Encoding: compressed bodies are not accepted")
	}
	return nil
}

// Canonical reports whether p, a decoded URL path, is absolute and has no
// empty, "." or ".." segment (a trailing slash is allowed).
func Canonical(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c == p
}

// CloseOnRefusal returns w, made to close the connection with any answer
// of 400 or more when r, over HTTP/1, has a body. A handler that refuses
// a request answers without reading its body, and net/http would then
// read the rest of it (up to 256 KB) to reuse the connection before
// sending the answer: a client that announces a body and never sends it
// would hold the connection, unanswered, for the whole read timeout.
//
// The answer also ends the reading of the body: net/http reads what is
// left of it once the handler returns, even with Connection: close, and
// a client that never sends it would hold the connection, answered but
// busy, and its goroutine, for the whole read timeout.
func CloseOnRefusal(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if r.ProtoMajor != 1 || r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
		return w
	}
	return &closeOnRefusal{ResponseWriter: w}
}

type closeOnRefusal struct {
	http.ResponseWriter
	wrote bool
}

func (c *closeOnRefusal) WriteHeader(code int) {
	if !c.wrote && code >= 400 {
		c.Header().Set("Connection", "close")
		// Not every ResponseWriter can (a test's recorder cannot); the
		// server's read timeout still applies then.
		http.NewResponseController(c.ResponseWriter).SetReadDeadline(time.Now())
	}
	c.wrote = c.wrote || code >= 200
	c.ResponseWriter.WriteHeader(code)
}

func (c *closeOnRefusal) Write(b []byte) (int, error) {
	c.wrote = true
	return c.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the ResponseWriter underneath.
func (c *closeOnRefusal) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Guard answers the requests Check refuses with their problem, and passes
// the others to h; an answer of 400 or more to a request with a body
// closes the connection (CloseOnRefusal).
func Guard(h http.Handler, maxHeader int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = CloseOnRefusal(w, r)
		if p := Check(w, r, maxHeader); p != nil {
			problem.Write(w, p)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MethodNotAllowed answers 405 with Allow set to allow, a list such as
// "GET, HEAD".
func MethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		problem.Write(w, problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
			"use "+allow+" for "+r.URL.Path))
	}
}

// NotFound answers 404 for a path the server does not serve; what names
// the server in the detail ("this intake").
func NotFound(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.New(http.StatusNotFound, "not-found", "No such endpoint",
			what+" has no endpoint "+r.Method+" "+r.URL.Path))
	}
}

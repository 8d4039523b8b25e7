// Package problem writes HTTP errors as RFC 9457 problem details
// (application/problem+json), so that a site owner, an operator or a widget
// learns what was wrong and what to do.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// TypeBase prefixes every problem type; the types are listed in
// docs/relay-api.md.
const TypeBase = "https://reportline.dev/problems/"

// Problem is one RFC 9457 problem details object.
type Problem struct {
	// Type is TypeBase + a short name such as "unknown-site".
	Type string `json:"type"`
	// Title is the same for every problem of the type.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail says what was wrong with this request and what to do.
	Detail string `json:"detail,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration `json:"-"`
}

// New returns a problem of the named type.
func New(status int, name, title, detail string) *Problem {
	return &Problem{Type: TypeBase + name, Title: title, Status: status, Detail: detail}
}

// Name is the short name of the problem's type ("unknown-site").
func (p *Problem) Name() string { return p.Type[len(TypeBase):] }

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// Write sends p as the response.
func Write(w http.ResponseWriter, p *Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((p.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(p.Status)
	b, _ := json.Marshal(p)
	w.Write(append(b, '\n'))
}

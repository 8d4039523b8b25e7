// Package reply sends a hotline's reply to a reporter who asked for
// anonymous follow-up, as docs/follow-up.md specifies: it signs the reply
// with the hotline's signing key, seals it to the reporter's key from the
// report, and posts it to the relay's mailbox with a signed post.
//
// Hotlines that integrate the channel into their case system call
// [Sender.Send]; `hotline reply` is a thin command around it.
package reply

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/hotline/termsafe"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// ErrNoFollowUp: the report's reporter did not ask for follow-up, so
// there is no one to reply to.
var ErrNoFollowUp = errors.New("the reporter did not ask for follow-up")

// ErrRefused is wrapped in the error for a post the relay refused; the
// error's text has the relay's explanation.
var ErrRefused = errors.New("the relay refused the reply")

// Sender posts replies for one hotline to one relay.
type Sender struct {
	// Relay is the relay's base URL, "https://report.example.org".
	Relay string
	// Hotline is the hotline's id, as the relay's [[hotline]] id.
	Hotline string
	// Key is the hotline's signing key, the one its statement_key at the
	// relay verifies.
	Key *statement.SigningKey
	// Client makes the request; nil means a client with a one-minute
	// timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sent is what was sent, for the hotline's own record.
type Sent struct {
	// Reply is the signed reply, as the reporter will read it.
	Reply *followup.Reply
	// Plaintext is the reply's signed text, padded.
	Plaintext []byte
}

// Send replies to the reporter of r with a message of the given kind
// (followup.KindQuestion, …) and text.
func (s *Sender) Send(ctx context.Context, r *report.Report, kind, text string) (*Sent, error) {
	fu := r.FollowUp
	if fu == nil {
		return nil, fmt.Errorf("failed to reply to report %s: %w", r.ID, ErrNoFollowUp)
	}
	if r.Hotline != s.Hotline {
		return nil, fmt.Errorf("failed to reply to report %s: it is for hotline %q, not %q", r.ID, r.Hotline, s.Hotline)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	rp := &followup.Reply{Hotline: s.Hotline, Report: r.ID, Mailbox: fu.Mailbox, Kind: kind, Sent: now(), Text: text}
	plain, err := followup.Sign(rp, s.Key)
	if err != nil {
		return nil, fmt.Errorf("failed to reply to report %s: %w", r.ID, err)
	}
	env, err := followup.Seal(plain, fu.ReplyTo)
	if err != nil {
		return nil, fmt.Errorf("failed to reply to report %s: %w", r.ID, err)
	}
	post, err := followup.SignPost(followup.NewPost(s.Hotline, fu.Mailbox, fu.Check, env, now()), s.Key)
	if err != nil {
		return nil, fmt.Errorf("failed to reply to report %s: %w", r.ID, err)
	}
	body, _ := json.Marshal(followup.PostBody{Post: string(post), Envelope: base64.StdEncoding.EncodeToString(env)})
	if err := s.post(ctx, body); err != nil {
		return nil, fmt.Errorf("failed to reply to report %s: %w", r.ID, err)
	}
	return &Sent{Reply: rp, Plaintext: plain}, nil
}

func (s *Sender) post(ctx context.Context, body []byte) error {
	u := strings.TrimRight(s.Relay, "/") + "/v1/hotlines/" + s.Hotline + "/replies"
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: time.Minute}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return nil
	}
	var p struct{ Title, Detail string }
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if json.Unmarshal(b, &p) != nil || p.Detail == "" {
		return fmt.Errorf("%w: status %d", ErrRefused, resp.StatusCode)
	}
	// The relay's words reach the hotline's terminal: escape them.
	return fmt.Errorf("%w: %s: %s", ErrRefused, termsafe.Escape(p.Title), termsafe.Escape(p.Detail))
}

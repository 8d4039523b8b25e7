package relay

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/relay/mailbox"
)

// PostWindow is how far a hotline's post time may be from the relay's
// clock; a post outside it is refused, one inside it can be stored once.
const PostWindow = 15 * time.Minute

// maxPostBody bounds a hotline's post: a sealed reply in base64 and the
// signed post text.
const maxPostBody = 32 << 10

// Mailboxes is the store of the hotlines' sealed replies: the bbolt file
// of package relay/mailbox, or natsstore.Mailboxes where several relays
// share a NATS cluster. Package relay/mailbox/mailboxtest holds both to
// the same behaviour.
type Mailboxes interface {
	// Put stores a verified post's sealed reply; it returns an error
	// wrapping mailbox.ErrFull, ErrCheck or ErrReplayed for a post the
	// mailbox refuses.
	Put(hotline, mailbox, check string, envelope []byte, now, replayUntil time.Time) error
	// Peek returns a mailbox's replies if requestKey is its key, and
	// nothing otherwise, removing nothing.
	Peek(hotline, mailbox string, requestKey []byte, now time.Time) ([][]byte, error)
	// Ack removes the replies ids names if requestKey is the mailbox's,
	// writing nothing otherwise.
	Ack(hotline, mailbox string, requestKey []byte, ids []string, now time.Time) error
}

// SetMailbox turns on the follow-up endpoints with the mailbox store;
// without it they answer 404.
func (s *Server) SetMailbox(m Mailboxes) { s.mailbox = m }

func followUpOff() *problem.Problem {
	return problem.New(http.StatusNotFound, "follow-up-off", "Follow-up not enabled",
		"this relay keeps no mailboxes: its operator has not set relay.mailbox")
}

// acceptPost stores a hotline's sealed reply after checking the post's
// signature against the hotline's statement_key.
func (s *Server) acceptPost(w http.ResponseWriter, r *http.Request) {
	if s.mailbox == nil {
		problem.Write(w, followUpOff())
		return
	}
	cfg := s.config()
	h := cfg.Hotline(r.PathValue("hotline"))
	if h == nil {
		problem.Write(w, problem.New(http.StatusNotFound, "unknown-hotline", "Unknown hotline",
			"no hotline "+quote(r.PathValue("hotline"))+" is configured on this relay"))
		return
	}
	if h.StatementKey == "" {
		problem.Write(w, problem.New(http.StatusForbidden, "no-statement-key", "Hotline has no verification key",
			"the relay checks replies against the hotline's statement_key, and this hotline has none: ask the operator to set it"))
		return
	}
	var req followup.PostBody
	if r.ContentLength > maxPostBody {
		problem.Write(w, bodyTooLarge(maxPostBody))
		return
	}
	if p := s.def.limit(s.def.replies, r); p != nil {
		problem.Write(w, p)
		return
	}
	body, p := s.readBodyUpTo(w, r, maxPostBody, bodyTooLarge(maxPostBody))
	if p != nil {
		problem.Write(w, p)
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		problem.Write(w, badPost("the body is not a JSON object {\"post\": …, \"envelope\": …} of at most "+itoa(maxPostBody)+" bytes"))
		return
	}
	post, err := followup.ParsePost([]byte(req.Post))
	if err != nil {
		problem.Write(w, badPost(err.Error()))
		return
	}
	env, err := base64.StdEncoding.Strict().DecodeString(req.Envelope)
	if err != nil || len(env) != followup.EnvelopeSize || !post.Covers(env) {
		problem.Write(w, badPost("the envelope is not standard base64 of the "+itoa(followup.EnvelopeSize)+"-byte sealed reply the post names"))
		return
	}
	if post.Hotline != h.ID {
		problem.Write(w, badPost("the post is signed for hotline "+quote(post.Hotline)+", not "+quote(h.ID)))
		return
	}
	if err := post.Verify(h.StatementKey); err != nil {
		problem.Write(w, problem.New(http.StatusForbidden, "bad-signature", "Signature does not verify",
			"the post was not signed with the hotline's signing key (the one its statement_key verifies)"))
		return
	}
	now := s.nowFunc()
	if d := now.Sub(post.Time); d > PostWindow || d < -PostWindow {
		problem.Write(w, problem.New(http.StatusForbidden, "stale-post", "Post too old or too new",
			"the post's time is more than "+PostWindow.String()+" from the relay's clock: check the clock and sign the post again"))
		return
	}
	err = s.mailbox.Put(h.ID, post.Mailbox, post.Check, env, now, post.Time.Add(PostWindow))
	switch {
	case errors.Is(err, mailbox.ErrFull):
		problem.Write(w, problem.New(http.StatusConflict, "mailbox-full", "Mailbox full",
			"the mailbox already holds "+itoa(followup.Slots)+" unread replies; send again after the reporter has read them"))
		return
	case errors.Is(err, mailbox.ErrCheck):
		problem.Write(w, problem.New(http.StatusConflict, "mailbox-check", "Check differs",
			"the mailbox holds replies for another check: take the check from the report's follow_up"))
		return
	case errors.Is(err, mailbox.ErrReplayed):
		problem.Write(w, problem.New(http.StatusConflict, "reply-replayed", "Reply already posted",
			"this sealed reply was posted before; seal the reply again to send it once more"))
		return
	case err != nil:
		s.log.Error("failed to store a reply", "err", err)
		p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Relay cannot store replies right now",
			"nothing was stored; send the reply again in a minute")
		p.RetryAfter = time.Minute
		problem.Write(w, p)
		return
	}
	s.log.Info("reply stored", "hotline", h.ID)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
}

func badPost(detail string) *problem.Problem {
	return problem.New(http.StatusBadRequest, "bad-post", "Not a reply post", detail+"; see docs/follow-up.md")
}

// fetchReplies answers a reporter's fetch. Every well-formed fetch with a
// valid proof of work gets the same answer, followup.Slots sealed replies
// or filler of the same size, whatever the code: a wrong code reads as a
// mailbox with nothing in it. It removes only the replies its ack names,
// which an earlier fetch gave and the reporter's side has shown: an
// answer lost on the way loses no reply. With a wrong code, or an ack of
// nothing the mailbox holds, it writes nothing, as for an empty mailbox.
// Nothing about the fetch is logged.
func (s *Server) fetchReplies(w http.ResponseWriter, r *http.Request) {
	if s.mailbox == nil {
		problem.Write(w, followUpOff())
		return
	}
	cfg := s.config()
	site := cfg.Site(r.PathValue("site"))
	if site == nil {
		problem.Write(w, unknownSite(r.PathValue("site")))
		return
	}
	allowFrame(w, r, cfg, site)
	if p := s.foreignOrigin(r, cfg, site); p != nil {
		problem.Write(w, p)
		return
	}
	if p := s.def.limit(s.def.fetches, r); p != nil {
		problem.Write(w, p)
		return
	}
	proof, p := s.verifyProof(r, site.ID)
	if p != nil {
		problem.Write(w, p)
		return
	}
	if r.ContentLength > mailbox.MaxFetchBody {
		problem.Write(w, bodyTooLarge(mailbox.MaxFetchBody))
		return
	}
	body, p := s.readBodyUpTo(w, r, mailbox.MaxFetchBody, bodyTooLarge(mailbox.MaxFetchBody))
	if p != nil {
		problem.Write(w, p)
		return
	}
	req, key, err := mailbox.ParseFetch(body)
	if err != nil {
		problem.Write(w, problem.New(http.StatusBadRequest, "bad-fetch", "Not a mailbox fetch",
			err.Error()+`; the body must be {"mailbox": 32 lower-case hex digits, "key": 32 bytes in unpadded base64url, `+
				`and optionally "ack": at most `+itoa(followup.Slots)+` SHA-256 in lower-case hex}; see docs/follow-up.md`))
		return
	}
	// A proof admits one fetch, whatever its mailbox; and what records
	// the spent proof (in memory, or in the cluster's shared bucket)
	// names no mailbox.
	nonce := make([]byte, 16)
	rand.Read(nonce)
	done, p := s.reserveProof(proof, "fetch "+hex.EncodeToString(nonce))
	if p != nil {
		problem.Write(w, p)
		return
	}
	defer done()
	now := s.nowFunc()
	if len(req.Ack) > 0 {
		err = s.mailbox.Ack(site.Hotline, req.Mailbox, key, req.Ack, now)
	}
	var replies [][]byte
	if err == nil {
		replies, err = s.mailbox.Peek(site.Hotline, req.Mailbox, key, now)
	}
	if err != nil {
		s.log.Error("failed to read a mailbox", "err", err)
		p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Relay cannot read mailboxes right now",
			"try again in a minute")
		p.RetryAfter = time.Minute
		problem.Write(w, p)
		return
	}
	out := followup.FetchAnswer{Replies: make([]string, followup.Slots)}
	for i := range out.Replies {
		b := make([]byte, followup.EnvelopeSize)
		if i < len(replies) {
			b = replies[i]
		} else {
			rand.Read(b)
		}
		out.Replies[i] = base64.StdEncoding.EncodeToString(b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// mailboxPath is the frame's follow-up endpoint for a site, or "" where
// the form cannot offer follow-up: no mailboxes on this relay, or no key
// to verify the hotline's replies with.
func (s *Server) mailboxPath(site, verifyKey string) string {
	if s.mailbox == nil || verifyKey == "" {
		return ""
	}
	return "/v1/sites/" + site + "/mailbox"
}

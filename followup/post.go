package followup

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PostHeader is the first line of the hotline's signed post of a reply to
// the relay's mailbox.
const PostHeader = "reportline-mailbox-post v1"

// Slots is how many sealed replies a mailbox holds and every fetch
// answers with: real ones first, random filler after, so that every
// answer has the same size.
const Slots = 4

// PostBody is the JSON body of POST /v1/hotlines/{hotline}/replies.
type PostBody struct {
	// Post is the signed post text.
	Post string `json:"post"`
	// Envelope is the sealed reply, standard base64.
	Envelope string `json:"envelope"`
}

// FetchBody is the JSON body of POST /v1/sites/{site}/mailbox.
type FetchBody struct {
	// Mailbox is the mailbox id, 32 lower-case hex digits.
	Mailbox string `json:"mailbox"`
	// Key is the request key, unpadded base64url.
	Key string `json:"key"`
	// Ack names (EnvelopeID) at most Slots replies an earlier fetch gave
	// and the reporter's side has shown: the relay removes them before it
	// answers. Empty or absent: nothing is acknowledged.
	Ack []string `json:"ack,omitempty"`
}

// EnvelopeID names a sealed reply in a fetch's ack: its SHA-256 in
// lower-case hex, the value of its post's envelope-sha256 line.
func EnvelopeID(envelope []byte) string {
	h := sha256.Sum256(envelope)
	return hex.EncodeToString(h[:])
}

// FetchAnswer is the relay's answer to every well-formed fetch.
type FetchAnswer struct {
	// Replies are [Slots] sealed replies in standard base64: those
	// waiting first, random filler of the same size after them.
	Replies []string `json:"replies"`
}

// ErrPost: a mailbox post is not as docs/follow-up.md writes one.
var ErrPost = errors.New("malformed mailbox post")

// Post is the hotline's signed instruction to the relay: keep this sealed
// reply in this mailbox, for the holder of this check.
type Post struct {
	// Hotline is the hotline's id; the relay verifies the signature with
	// that hotline's statement_key.
	Hotline string
	// Mailbox and Check come from the report's follow_up.
	Mailbox, Check string
	// EnvelopeSHA256 is the sealed reply's SHA-256, lower-case hex.
	EnvelopeSHA256 string
	// Time is when the hotline signed it, UTC, to the second.
	Time time.Time
	// Signature is the hotline's Ed25519 signature over SignedText.
	Signature []byte

	signed []byte
}

// NewPost returns the post for a sealed reply.
func NewPost(hotline, mailbox, check string, envelope []byte, now time.Time) *Post {
	return &Post{Hotline: hotline, Mailbox: mailbox, Check: check, EnvelopeSHA256: EnvelopeID(envelope), Time: now.UTC().Truncate(time.Second)}
}

// Body returns the text to sign for p's fields.
func (p *Post) Body() []byte {
	return fmt.Appendf(nil, "%s\nhotline %s\nmailbox %s\ncheck %s\nenvelope-sha256 %s\ntime %s\n", PostHeader,
		p.Hotline, p.Mailbox, p.Check, p.EnvelopeSHA256, p.Time.UTC().Format(time.RFC3339))
}

// SignedText returns the bytes the signature covers.
func (p *Post) SignedText() []byte { return p.signed }

// String returns the post's text, signature included.
func (p *Post) String() string {
	return string(p.Body()) + "signature " + base64.StdEncoding.EncodeToString(p.Signature) + "\n"
}

// ParsePost reads a post's text; the relay then checks the signature, the
// time and the envelope's hash.
func ParsePost(text []byte) (*Post, error) {
	if len(text) > 1024 || len(text) == 0 || text[len(text)-1] != '\n' {
		return nil, fmt.Errorf("%w: it must be at most 1024 bytes and end with a newline", ErrPost)
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) != 7 || lines[0] != PostHeader {
		return nil, fmt.Errorf("%w: it must be the line %q and six more", ErrPost, PostHeader)
	}
	names := []string{"", "hotline", "mailbox", "check", "envelope-sha256", "time", "signature"}
	vals := make([]string, len(names))
	for i := 1; i < len(lines); i++ {
		v, ok := strings.CutPrefix(lines[i], names[i]+" ")
		if !ok || v == "" || strings.ContainsAny(v, " \r\t") {
			return nil, fmt.Errorf("%w: line %d must be %q followed by one space and a value", ErrPost, i+1, names[i])
		}
		vals[i] = v
	}
	p := &Post{Hotline: vals[1], Mailbox: vals[2], Check: vals[3], EnvelopeSHA256: vals[4]}
	if !validID(p.Hotline) || !ValidMailbox(p.Mailbox) || !validCheck(p.Check) || !validSHA256(p.EnvelopeSHA256) {
		return nil, fmt.Errorf("%w: the hotline, mailbox, check or envelope-sha256 is not written as specified", ErrPost)
	}
	t, err := time.Parse(time.RFC3339, vals[5])
	if err != nil || t.UTC().Format(time.RFC3339) != vals[5] {
		return nil, fmt.Errorf("%w: time %q is not a UTC time like 2026-01-31T12:00:00Z", ErrPost, vals[5])
	}
	p.Time = t
	if p.Signature, err = base64.StdEncoding.Strict().DecodeString(vals[6]); err != nil || len(p.Signature) != 64 {
		return nil, fmt.Errorf("%w: the signature is not 64 bytes in base64", ErrPost)
	}
	p.signed = text[:len(text)-len(lines[6])-1]
	if !bytes.Equal(p.signed, p.Body()) {
		return nil, fmt.Errorf("%w: it is not written as docs/follow-up.md writes a post", ErrPost)
	}
	return p, nil
}

// Covers reports whether p is the post for envelope.
func (p *Post) Covers(envelope []byte) bool { return EnvelopeID(envelope) == p.EnvelopeSHA256 }

// validCheck reports whether s is a check: 32 bytes in unpadded base64url.
func validCheck(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}

// ValidEnvelopeID reports whether s is written as EnvelopeID writes one.
func ValidEnvelopeID(s string) bool { return validSHA256(s) }

func validSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && strings.ToLower(s) == s
}

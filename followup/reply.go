package followup

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ReplyHeader is the first line of every reply; it also keeps a reply's
// signature apart from any other use of the hotline's signing key.
const ReplyHeader = "reportline-reply v1"

// Reply sizes.
const (
	// MaxText is the longest reply text, in bytes of UTF-8.
	MaxText = 4000
	// ReplySize is the size of every reply's plaintext: the signed lines,
	// the signature line and spaces up to it, so that every sealed reply
	// has the same length.
	ReplySize = 8 << 10
)

// Kinds of reply.
const (
	KindQuestion        = "question"
	KindAcknowledgement = "acknowledgement"
	KindOutcome         = "outcome"
	KindClosed          = "closed"
)

// Kinds lists the reply kinds in the order docs/follow-up.md gives them.
var Kinds = []string{KindQuestion, KindAcknowledgement, KindOutcome, KindClosed}

// Errors of a reply; each is wrapped with the detail.
var (
	// ErrMalformed: the text is not a reply as docs/follow-up.md writes one.
	ErrMalformed = errors.New("malformed reply")
	// ErrSignature: the reply's signature does not verify against the
	// hotline's key. The reply must not be shown as the hotline's.
	ErrSignature = errors.New("reply signature does not verify")
	// ErrMailbox: the reply names another mailbox or hotline than the one
	// it was fetched for.
	ErrMailbox = errors.New("reply is for another mailbox")
)

// Reply is one message from the hotline to the reporter.
type Reply struct {
	// Hotline is the hotline's id.
	Hotline string
	// Report is the id of the report the reply is about.
	Report string
	// Mailbox is the reporter's mailbox id, which binds the reply to one
	// receipt.
	Mailbox string
	// Kind is one of [Kinds].
	Kind string
	// Sent is when the hotline wrote it, UTC, to the second.
	Sent time.Time
	// Text is the message, plain UTF-8 text; line breaks allowed.
	Text string
	// Signature is the hotline's Ed25519 signature over SignedText.
	Signature []byte

	signed []byte
}

// SignedText returns the bytes the signature covers.
func (r *Reply) SignedText() []byte { return r.signed }

// Body returns the text to sign for r's fields.
func (r *Reply) Body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nhotline %s\nreport %s\nmailbox %s\nkind %s\nsent %s\ntext %s\n", ReplyHeader,
		r.Hotline, r.Report, r.Mailbox, r.Kind, r.Sent.UTC().Format(time.RFC3339),
		base64.StdEncoding.EncodeToString([]byte(r.Text)))
	return b.Bytes()
}

// Check reports what is wrong with r's fields, before they are signed.
func (r *Reply) Check() error {
	switch {
	case !validID(r.Hotline):
		return fmt.Errorf("%w: hotline %q is not an id of lower-case letters, digits and dashes", ErrMalformed, r.Hotline)
	case !validUUID(r.Report):
		return fmt.Errorf("%w: report %q is not a report id", ErrMalformed, r.Report)
	case !ValidMailbox(r.Mailbox):
		return fmt.Errorf("%w: mailbox %q is not 32 lower-case hex digits", ErrMalformed, r.Mailbox)
	case !validKind(r.Kind):
		return fmt.Errorf("%w: kind %q is not one of %s", ErrMalformed, r.Kind, strings.Join(Kinds, ", "))
	case !utf8.ValidString(r.Text):
		return fmt.Errorf("%w: the text is not UTF-8", ErrMalformed)
	case len(r.Text) > MaxText:
		return fmt.Errorf("%w: the text has %d bytes, at most %d fit in a reply", ErrMalformed, len(r.Text), MaxText)
	case r.Kind == KindQuestion && strings.TrimSpace(r.Text) == "":
		return fmt.Errorf("%w: a question needs a text", ErrMalformed)
	case strings.ContainsFunc(r.Text, func(c rune) bool { return c < 0x20 && c != '\n' || c == 0x7f }):
		return fmt.Errorf("%w: the text has control characters other than line breaks", ErrMalformed)
	}
	return nil
}

// Plaintext returns what is sealed: the body, the signature line and
// spaces up to [ReplySize].
func (r *Reply) Plaintext() []byte {
	out := make([]byte, 0, ReplySize)
	out = append(out, r.Body()...)
	out = append(out, "signature "+base64.StdEncoding.EncodeToString(r.Signature)+"\n"...)
	for len(out) < ReplySize {
		out = append(out, ' ')
	}
	return out
}

// ParseReply reads a reply's plaintext. It checks the form only; the
// signature is checked by Verify (or WebCrypto in the browser), and the
// mailbox by CheckFor.
func ParseReply(plain []byte) (*Reply, error) {
	if len(plain) != ReplySize {
		return nil, fmt.Errorf("%w: %d bytes, a reply has %d", ErrMalformed, len(plain), ReplySize)
	}
	end := bytes.LastIndexByte(plain, '\n')
	if end < 0 || strings.Trim(string(plain[end+1:]), " ") != "" {
		return nil, fmt.Errorf("%w: anything after the signature line must be spaces", ErrMalformed)
	}
	lines := strings.Split(string(plain[:end]), "\n")
	if len(lines) != 8 || lines[0] != ReplyHeader {
		return nil, fmt.Errorf("%w: it must be the line %q and seven more", ErrMalformed, ReplyHeader)
	}
	names := []string{"", "hotline", "report", "mailbox", "kind", "sent", "text", "signature"}
	vals := make([]string, len(names))
	for i := 1; i < len(lines); i++ {
		v, ok := strings.CutPrefix(lines[i], names[i]+" ")
		if !ok || (v == "" && names[i] != "text") || strings.ContainsAny(v, " \r\t") {
			return nil, fmt.Errorf("%w: line %d must be %q followed by one space and a value", ErrMalformed, i+1, names[i])
		}
		vals[i] = v
	}
	r := &Reply{Hotline: vals[1], Report: vals[2], Mailbox: vals[3], Kind: vals[4]}
	t, err := time.Parse(time.RFC3339, vals[5])
	if err != nil || t.UTC().Format(time.RFC3339) != vals[5] {
		return nil, fmt.Errorf("%w: sent %q is not a UTC time like 2026-01-31T12:00:00Z", ErrMalformed, vals[5])
	}
	r.Sent = t
	text, err := base64.StdEncoding.Strict().DecodeString(vals[6])
	if err != nil {
		return nil, fmt.Errorf("%w: the text is not standard base64", ErrMalformed)
	}
	r.Text = string(text)
	if r.Signature, err = base64.StdEncoding.Strict().DecodeString(vals[7]); err != nil || len(r.Signature) != 64 {
		return nil, fmt.Errorf("%w: the signature is not 64 bytes in base64", ErrMalformed)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	r.signed = plain[:end-len(lines[7])]
	if !bytes.Equal(r.signed, r.Body()) {
		return nil, fmt.Errorf("%w: it is not written as docs/follow-up.md writes a reply", ErrMalformed)
	}
	return r, nil
}

// CheckFor reports whether r belongs to the mailbox it was fetched from
// and the hotline the reporter wrote to.
func (r *Reply) CheckFor(hotline, mailbox string) error {
	if r.Hotline != hotline || r.Mailbox != mailbox {
		return fmt.Errorf("%w: it names hotline %q and mailbox %s", ErrMailbox, r.Hotline, r.Mailbox)
	}
	return nil
}

// ValidMailbox reports whether s is a mailbox id: 32 lower-case hex digits.
func ValidMailbox(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 16 && strings.ToLower(s) == s
}

func validKind(k string) bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

func validID(id string) bool {
	if id == "" || len(id) > 63 || id[0] == '-' {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validUUID reports whether s is a UUID written in lower-case hex with
// dashes, as report ids are.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

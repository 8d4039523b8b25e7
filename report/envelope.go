package report

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
)

// Recipient kinds. They are the age stanza types a hotline's recipients
// produce; age refuses to mix post-quantum and classic recipients in one
// file, so all of a hotline's recipients are of one kind.
const (
	KindHybrid = "mlkem768x25519" // age1pq1…, ML-KEM-768 + X25519, the default
	KindX25519 = "X25519"         // age1…, classic
)

// Size buckets. The plaintext is padded with white space to the smallest
// bucket that holds it, so that an observer of the ciphertext learns only
// the bucket.
var Buckets = []int{4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10}

// MaxPlaintext is the largest padded report, the largest bucket.
const MaxPlaintext = 64 << 10

// MaxRecipients is how many recipients a hotline may have.
const MaxRecipients = 16

// MaxEnvelope is the largest well-formed envelope: the largest bucket, its
// stream overhead and a header for [MaxRecipients] hybrid recipients.
const MaxEnvelope = MaxPlaintext + streamOverhead + MaxRecipients*hybridStanzaLen + 512

const (
	streamOverhead  = 16 + 16 // nonce, then one tag per 64 KiB chunk
	chunkSize       = 64 << 10
	hybridShareLen  = 1120
	x25519ShareLen  = 32
	wrappedKeyLen   = 32
	hybridStanzaLen = 1600
)

// ErrEnvelope is returned (wrapped) for a body that is not a well-formed
// report envelope for the expected recipients.
var ErrEnvelope = errors.New("not a well-formed report envelope")

// Recipients are a hotline's age recipients, all of one kind.
type Recipients struct {
	kind string
	rs   []age.Recipient
}

// ParseRecipients parses a hotline's recipients ("age1pq1…" or "age1…"
// strings, all of one kind).
func ParseRecipients(keys []string) (*Recipients, error) {
	if len(keys) == 0 {
		return nil, errors.New("no recipients: a hotline needs at least one age public key")
	}
	if len(keys) > MaxRecipients {
		return nil, fmt.Errorf("%d recipients, at most %d are allowed", len(keys), MaxRecipients)
	}
	out := &Recipients{}
	for i, k := range keys {
		k = strings.TrimSpace(k)
		var r age.Recipient
		var kind string
		var err error
		switch {
		case strings.HasPrefix(k, "age1pq1"):
			kind = KindHybrid
			r, err = age.ParseHybridRecipient(k)
		case strings.HasPrefix(k, "age1"):
			kind = KindX25519
			r, err = age.ParseX25519Recipient(k)
		default:
			err = errors.New(`not an age public key (want "age1pq1…" or "age1…")`)
		}
		if err != nil {
			return nil, fmt.Errorf("failed to parse recipient #%d: %w", i+1, err)
		}
		if out.kind != "" && kind != out.kind {
			return nil, fmt.Errorf("recipient #%d is %s but recipient #1 is %s: all of a hotline's recipients must be of one kind", i+1, kind, out.kind)
		}
		out.kind = kind
		out.rs = append(out.rs, r)
	}
	return out, nil
}

// Kind is [KindHybrid] or [KindX25519].
func (r *Recipients) Kind() string { return r.kind }

// Len is the number of recipients.
func (r *Recipients) Len() int { return len(r.rs) }

// Pad returns b followed by a newline and spaces up to the smallest bucket
// that holds it. The result is still valid JSON.
func Pad(b []byte) ([]byte, error) {
	for _, size := range Buckets {
		if len(b)+1 <= size {
			out := make([]byte, size)
			copy(out, b)
			out[len(b)] = '\n'
			for i := len(b) + 1; i < size; i++ {
				out[i] = ' '
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("report of %d bytes is larger than the largest size bucket (%d bytes)", len(b), MaxPlaintext)
}

// Seal encodes r, pads it and encrypts it to the recipients.
func Seal(r *Report, to *Recipients) ([]byte, error) {
	b, err := Marshal(r)
	if err != nil {
		return nil, err
	}
	padded, err := Pad(b)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, to.rs...)
	if err != nil {
		return nil, fmt.Errorf("failed to encrypt report: %w", err)
	}
	if _, err := w.Write(padded); err != nil {
		return nil, fmt.Errorf("failed to encrypt report: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to encrypt report: %w", err)
	}
	return out.Bytes(), nil
}

// Open decrypts an envelope with the hotline's identities and returns the
// report and the plaintext it was sealed from (padding included).
func Open(envelope []byte, ids ...age.Identity) (*Report, []byte, error) {
	if len(envelope) > MaxEnvelope {
		return nil, nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrEnvelope, len(envelope), MaxEnvelope)
	}
	// DecryptReaderAt knows the report's size from the envelope's, so the
	// report is read in one piece: age.Decrypt's stream allocates two
	// 64 KiB buffers whatever the report's size, which were most of what
	// an intake allocated per report.
	rd, size, err := age.DecryptReaderAt(bytes.NewReader(envelope), int64(len(envelope)), ids...)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to decrypt report: %w", err)
	}
	plain := make([]byte, min(size, MaxPlaintext+1))   // Parse refuses more than MaxPlaintext
	if n, err := rd.ReadAt(plain, 0); n < len(plain) { // io.EOF with all of it is no error
		return nil, nil, fmt.Errorf("failed to decrypt report: %w", err)
	}
	r, err := Parse(plain)
	if err != nil {
		return nil, plain, err
	}
	return r, plain, nil
}

// CheckEnvelope reports whether body is a well-formed age file sealed to n
// recipients of the given kind, with a payload of one of the size buckets.
// It needs no key and learns nothing of the content: it is what the relay
// checks before it stores a body.
func CheckEnvelope(body []byte, kind string, n int) error {
	if len(body) > MaxEnvelope {
		return fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrEnvelope, len(body), MaxEnvelope)
	}
	hdr, err := age.ExtractHeader(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrEnvelope, err)
	}
	if !bytes.HasPrefix(body, hdr) {
		return fmt.Errorf("%w: the age header is not in canonical form", ErrEnvelope)
	}
	ins := &inspector{}
	if _, err := age.DecryptHeader(hdr, ins); !errors.As(err, new(*age.NoIdentityMatchError)) {
		return fmt.Errorf("%w: failed to read the age header: %v", ErrEnvelope, err)
	}
	if len(ins.stanzas) != n {
		return fmt.Errorf("%w: sealed to %d recipients, the hotline has %d", ErrEnvelope, len(ins.stanzas), n)
	}
	for i, s := range ins.stanzas {
		if err := checkStanza(s, kind); err != nil {
			return fmt.Errorf("%w: recipient stanza #%d: %v", ErrEnvelope, i+1, err)
		}
	}
	payload := len(body) - len(hdr)
	for _, size := range Buckets {
		if payload == size+streamOverhead+(size-1)/chunkSize*16 {
			return nil
		}
	}
	return fmt.Errorf("%w: payload of %d bytes is not a padded report", ErrEnvelope, payload)
}

func checkStanza(s *age.Stanza, kind string) error {
	if s.Type != kind {
		return fmt.Errorf("type %q, the hotline's recipients are %q", s.Type, kind)
	}
	if len(s.Args) != 1 {
		return fmt.Errorf("%d arguments, want 1", len(s.Args))
	}
	share, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[0])
	want := x25519ShareLen
	if kind == KindHybrid {
		want = hybridShareLen
	}
	if err != nil || len(share) != want {
		return fmt.Errorf("malformed share")
	}
	if len(s.Body) != wrappedKeyLen {
		return fmt.Errorf("wrapped key of %d bytes, want %d", len(s.Body), wrappedKeyLen)
	}
	return nil
}

// inspector is an age.Identity that opens nothing: it records the header's
// stanzas so that CheckEnvelope can look at them with age's own parser.
type inspector struct{ stanzas []*age.Stanza }

func (i *inspector) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	i.stanzas = stanzas
	return nil, age.ErrIncorrectIdentity
}

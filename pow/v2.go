package pow

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ALTCHA's protocol version 2 (altcha-lib 2.x, widget 3.x), as described
// in docs/abuse.md. A challenge is a set of [Parameters]: a key-derivation
// function and its costs, a random nonce and salt, the expiry and the site,
// and the prefix that the derived key of the secret counter starts with;
// the relay signs them with HMAC-SHA-256 over their canonical JSON. The
// widget derives the key of nonce || counter (a big-endian uint32) for
// counter 0, 1, … until one starts with the prefix, and sends the counter
// and that key ([PayloadV2]). The relay checks the key against the
// parameters' keySignature, an HMAC of the key the relay derived when it
// issued the challenge ("deterministic mode"), so that checking a solution
// costs two HMACs and no key derivation.

// Key-derivation functions of version 2, named as ALTCHA names them.
const (
	// AlgorithmPBKDF2 is PBKDF2-HMAC-SHA-256 with Cost iterations, which
	// browsers compute natively through WebCrypto: the default.
	AlgorithmPBKDF2 = "PBKDF2/SHA-256"
	// AlgorithmScrypt is scrypt with N = Cost and r = MemoryCost (p = 1),
	// which needs 128·N·r bytes of memory for each key.
	AlgorithmScrypt = "SCRYPT"
)

// Bounds of version 2 challenges, as [ParseParameters] checks them.
const (
	// MaxCounterLimit bounds a challenge's secret counter, and so how many
	// keys a widget derives before it gives up.
	MaxCounterLimit = 1_000_000
	// MaxCost bounds a challenge's cost (PBKDF2 iterations, scrypt N).
	MaxCost = 10_000_000
	// MaxScryptMemory bounds the memory one scrypt key takes, 128·N·r.
	MaxScryptMemory = 64 << 20
	// keyLen is the length of the keys the relay asks for, altcha-lib's
	// default; a solution's key is checked by its signature, so the
	// prefix is half of it, as in altcha-lib's deterministic mode.
	keyLen = 32
)

// KDF is a key-derivation function and its costs: what one attempt at a
// version 2 challenge costs the widget.
type KDF struct {
	// Algorithm is [AlgorithmPBKDF2] or [AlgorithmScrypt].
	Algorithm string
	// Cost is PBKDF2's iterations, or scrypt's N (a power of two).
	Cost int64
	// MemoryCost is scrypt's r (its block size, in 128-byte units); zero
	// for PBKDF2.
	MemoryCost int64
}

// Check reports whether k is a function and costs this package derives
// keys with.
func (k KDF) Check() error {
	switch k.Algorithm {
	case AlgorithmPBKDF2:
		if k.Cost < 1 || k.Cost > MaxCost {
			return fmt.Errorf("%w: cost %d is not from 1 to %d", ErrMalformed, k.Cost, MaxCost)
		}
		if k.MemoryCost != 0 {
			return fmt.Errorf("%w: memoryCost is only for scrypt", ErrMalformed)
		}
	case AlgorithmScrypt:
		if k.Cost < 2 || k.Cost > MaxCost || k.Cost&(k.Cost-1) != 0 {
			return fmt.Errorf("%w: scrypt cost (N) %d is not a power of two from 2 to %d", ErrMalformed, k.Cost, MaxCost)
		}
		if k.MemoryCost < 1 || 128*k.Cost*k.MemoryCost > MaxScryptMemory {
			return fmt.Errorf("%w: scrypt memoryCost (r) %d with cost %d needs more than %d MiB a key", ErrMalformed, k.MemoryCost, k.Cost, MaxScryptMemory>>20)
		}
	default:
		return fmt.Errorf("%w: algorithm %q, want %q or %q", ErrMalformed, k.Algorithm, AlgorithmPBKDF2, AlgorithmScrypt)
	}
	return nil
}

// Data is what a challenge binds besides the work: the site it is for.
type Data struct {
	Site string `json:"site"`
}

// Parameters are a version 2 challenge's parameters. The fields are in
// the order of their JSON names, the canonical order they are signed in.
type Parameters struct {
	Algorithm    string `json:"algorithm"`
	Cost         int64  `json:"cost"`
	Data         Data   `json:"data"`
	ExpiresAt    int64  `json:"expiresAt"`
	KeyLength    int64  `json:"keyLength"`
	KeyPrefix    string `json:"keyPrefix"`
	KeySignature string `json:"keySignature"`
	MemoryCost   int64  `json:"memoryCost,omitempty"`
	Nonce        string `json:"nonce"`
	Salt         string `json:"salt"`
}

// ChallengeV2 is what the challenge endpoint answers for version 2.
type ChallengeV2 struct {
	Parameters Parameters `json:"parameters"`
	Signature  string     `json:"signature"`
}

// SolutionV2 is a solved version 2 challenge: the counter and its key.
type SolutionV2 struct {
	Counter    int64  `json:"counter"`
	DerivedKey string `json:"derivedKey"`
	// Time is the milliseconds the search took; ALTCHA's widget sends
	// it, the relay ignores it.
	Time float64 `json:"time,omitempty"`
}

// PayloadV2 is the value of [Header] for version 2, as base64 of its
// JSON, as ALTCHA's widget sends it.
type PayloadV2 struct {
	Challenge ChallengeV2 `json:"challenge"`
	Solution  SolutionV2  `json:"solution"`
}

// KDF returns the parameters' key-derivation function.
func (p *Parameters) KDF() KDF {
	return KDF{Algorithm: p.Algorithm, Cost: p.Cost, MemoryCost: p.MemoryCost}
}

// canonical returns the parameters' JSON as altcha-lib signs it:
// JSON.stringify with the keys sorted.
func (p *Parameters) canonical() []byte {
	b := make([]byte, 0, 384)
	b = append(b, `{"algorithm":`...)
	b = appendJSONString(b, p.Algorithm)
	b = append(b, `,"cost":`...)
	b = strconv.AppendInt(b, p.Cost, 10)
	b = append(b, `,"data":{"site":`...)
	b = appendJSONString(b, p.Data.Site)
	b = append(b, `},"expiresAt":`...)
	b = strconv.AppendInt(b, p.ExpiresAt, 10)
	b = append(b, `,"keyLength":`...)
	b = strconv.AppendInt(b, p.KeyLength, 10)
	b = append(b, `,"keyPrefix":`...)
	b = appendJSONString(b, p.KeyPrefix)
	b = append(b, `,"keySignature":`...)
	b = appendJSONString(b, p.KeySignature)
	if p.MemoryCost != 0 {
		b = append(b, `,"memoryCost":`...)
		b = strconv.AppendInt(b, p.MemoryCost, 10)
	}
	b = append(b, `,"nonce":`...)
	b = appendJSONString(b, p.Nonce)
	b = append(b, `,"salt":`...)
	b = appendJSONString(b, p.Salt)
	return append(b, '}')
}

// ParseParameters checks the form of a version 2 challenge's parameters,
// as the widget receives them, and returns when the challenge expires.
func ParseParameters(p *Parameters) (expires time.Time, err error) {
	if err := p.KDF().Check(); err != nil {
		return time.Time{}, err
	}
	if p.KeyLength != keyLen {
		return time.Time{}, fmt.Errorf("%w: keyLength %d, want %d", ErrMalformed, p.KeyLength, keyLen)
	}
	if !isHex(p.KeyPrefix, len(p.KeyPrefix)) || len(p.KeyPrefix) < 2 || len(p.KeyPrefix)%2 != 0 || len(p.KeyPrefix) >= 2*keyLen {
		return time.Time{}, fmt.Errorf("%w: keyPrefix must be 2 to %d lower-case hex digits, in whole bytes", ErrMalformed, 2*keyLen-2)
	}
	if !isHex(p.KeySignature, 2*sha256.Size) {
		return time.Time{}, fmt.Errorf("%w: keySignature must be 64 lower-case hex digits", ErrMalformed)
	}
	if !isHex(p.Nonce, len(p.Nonce)) || !isHex(p.Salt, len(p.Salt)) || len(p.Nonce)%2 != 0 || len(p.Salt)%2 != 0 ||
		len(p.Nonce) < 16 || len(p.Salt) < 16 || len(p.Nonce) > 128 || len(p.Salt) > 128 {
		return time.Time{}, fmt.Errorf("%w: nonce and salt must be 16 to 128 lower-case hex digits, in whole bytes", ErrMalformed)
	}
	if p.ExpiresAt < 1 || p.ExpiresAt > 1<<40 {
		return time.Time{}, fmt.Errorf("%w: expiresAt %d is not a time in UNIX seconds", ErrMalformed, p.ExpiresAt)
	}
	if !isSite(p.Data.Site) {
		return time.Time{}, fmt.Errorf("%w: data.site %q is not a site id", ErrMalformed, p.Data.Site)
	}
	return time.Unix(p.ExpiresAt, 0), nil
}

// Password returns what the key of counter is derived from: the nonce's
// bytes followed by counter as a big-endian uint32, altcha-lib's "uint32"
// counter mode.
func (p *Parameters) Password(counter uint32) []byte {
	b, _ := hex.DecodeString(p.Nonce)
	return binary.BigEndian.AppendUint32(b, counter)
}

// SaltBytes returns the salt keys are derived with: the salt's bytes.
func (p *Parameters) SaltBytes() []byte {
	b, _ := hex.DecodeString(p.Salt)
	return b
}

// HasPrefix reports whether key solves a challenge with these
// parameters: it starts with the key prefix.
func (p *Parameters) HasPrefix(key []byte) bool {
	prefix, err := hex.DecodeString(p.KeyPrefix)
	return err == nil && len(prefix) > 0 && bytes.HasPrefix(key, prefix)
}

// Deriver derives the key of one password with a challenge's function,
// costs and salt. The widget's derives through WebCrypto; [DeriveKey] is
// the native one.
type Deriver func(p *Parameters, password []byte) ([]byte, error)

// SolveV2 finds the counter of p by deriving the keys of counters 0, 1, …
// up to [MaxCounterLimit] with derive until one starts with the prefix,
// as altcha-lib's solveChallenge does. Each key derivation takes long
// enough that the widget awaits it, so there is no pause to give.
func SolveV2(p *Parameters, derive Deriver) (*SolutionV2, error) {
	if _, err := ParseParameters(p); err != nil {
		return nil, fmt.Errorf("failed to solve challenge: %w", err)
	}
	for n := uint32(0); n <= MaxCounterLimit; n++ {
		key, err := derive(p, p.Password(n))
		if err != nil {
			return nil, fmt.Errorf("failed to solve challenge: %w", err)
		}
		if p.HasPrefix(key) {
			return &SolutionV2{Counter: int64(n), DerivedKey: hex.EncodeToString(key)}, nil
		}
	}
	return nil, fmt.Errorf("failed to solve challenge: %w: no counter up to %d", ErrUnsolved, MaxCounterLimit)
}

// Encode returns the payload as the value of [Header]: base64 of its JSON.
func (pl *PayloadV2) Encode() string {
	b := make([]byte, 0, 640)
	b = append(b, `{"challenge":{"parameters":`...)
	b = append(b, pl.Challenge.Parameters.canonical()...)
	b = append(b, `,"signature":`...)
	b = appendJSONString(b, pl.Challenge.Signature)
	b = append(b, `},"solution":{"counter":`...)
	b = strconv.AppendInt(b, pl.Solution.Counter, 10)
	b = append(b, `,"derivedKey":`...)
	b = appendJSONString(b, pl.Solution.DerivedKey)
	b = append(b, `}}`...)
	return base64.StdEncoding.EncodeToString(b)
}

// isV2 reports whether a decoded header is a version 2 payload: its
// "challenge" is an object, where version 1's is a string.
func isV2(b []byte) bool {
	var probe struct {
		Challenge json.RawMessage `json:"challenge"`
	}
	return json.Unmarshal(b, &probe) == nil && len(probe.Challenge) > 0 && probe.Challenge[0] == '{'
}

// parsePayloadV2 reads a decoded version 2 payload and checks the form of
// every field; it checks neither signature nor key.
func parsePayloadV2(b []byte) (*PayloadV2, error) {
	var pl PayloadV2
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&pl); err != nil {
		return nil, fmt.Errorf("%w: not an ALTCHA version 2 payload: %v", ErrMalformed, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the payload", ErrMalformed)
	}
	if _, err := ParseParameters(&pl.Challenge.Parameters); err != nil {
		return nil, err
	}
	if !isHex(pl.Challenge.Signature, 2*sha256.Size) {
		return nil, fmt.Errorf("%w: signature must be 64 lower-case hex digits", ErrMalformed)
	}
	if pl.Solution.Counter < 0 || pl.Solution.Counter > MaxCounterLimit {
		return nil, fmt.Errorf("%w: counter %d is not from 0 to %d", ErrMalformed, pl.Solution.Counter, MaxCounterLimit)
	}
	if !isHex(pl.Solution.DerivedKey, 2*keyLen) {
		return nil, fmt.Errorf("%w: derivedKey must be %d lower-case hex digits", ErrMalformed, 2*keyLen)
	}
	return &pl, nil
}

// keySecret returns the secret that signs derived keys, made from the
// issuer's key as altcha-lib's deriveHmacKeySecret makes it: the hex of
// HMAC-SHA-256 keyed with "derived-secret" over the key.
func keySecret(key []byte) []byte {
	m := hmac.New(sha256.New, []byte("derived-secret"))
	m.Write(key)
	return []byte(hex.EncodeToString(m.Sum(nil)))
}

// signV2 is HMAC-SHA-256 of the parameters' canonical JSON.
func (i *Issuer) signV2(p *Parameters) []byte {
	m := hmac.New(sha256.New, i.key)
	m.Write(p.canonical())
	return m.Sum(nil)
}

// signKey is HMAC-SHA-256 of a derived key with the key secret.
func (i *Issuer) signKey(key []byte) []byte {
	m := hmac.New(sha256.New, i.keySecret)
	m.Write(key)
	return m.Sum(nil)
}

// IssueV2 makes a version 2 challenge for site with the issuer's
// key-derivation function, whose secret counter is at most maxCounter:
// solving it takes maxCounter/2 key derivations on average. Issuing costs
// one key derivation.
func (i *Issuer) IssueV2(site string, maxCounter int64) (*ChallengeV2, error) {
	if !isSite(site) {
		return nil, fmt.Errorf("failed to issue challenge: bad site %q", site)
	}
	if maxCounter < 1 || maxCounter > MaxCounterLimit {
		return nil, fmt.Errorf("failed to issue challenge: counter bound %d is not from 1 to %d", maxCounter, MaxCounterLimit)
	}
	var nonce, salt [16]byte
	rand.Read(nonce[:])
	rand.Read(salt[:])
	p := Parameters{
		Algorithm: i.kdf.Algorithm, Cost: i.kdf.Cost, MemoryCost: i.kdf.MemoryCost,
		Data:      Data{Site: site},
		ExpiresAt: i.now().Add(i.ttl).Unix(),
		KeyLength: keyLen,
		Nonce:     hex.EncodeToString(nonce[:]),
		Salt:      hex.EncodeToString(salt[:]),
	}
	key, err := DeriveKey(&p, p.Password(uint32(randomNumber(maxCounter))))
	if err != nil {
		return nil, fmt.Errorf("failed to issue challenge: %w", err)
	}
	p.KeyPrefix = hex.EncodeToString(key[:keyLen/2])
	p.KeySignature = hex.EncodeToString(i.signKey(key))
	return &ChallengeV2{Parameters: p, Signature: hex.EncodeToString(i.signV2(&p))}, nil
}

// verifyV2 checks a version 2 payload, as [Issuer.Verify] does a
// version 1 solution: expiry, signature, site, then the key against its
// signature and prefix. It derives no key.
func (i *Issuer) verifyV2(pl *PayloadV2, site string) (Proof, error) {
	p := &pl.Challenge.Parameters
	if i.now().Unix() >= p.ExpiresAt {
		return Proof{}, fmt.Errorf("%w at %s", ErrExpired, time.Unix(p.ExpiresAt, 0).UTC().Format(time.RFC3339))
	}
	var id [sha256.Size]byte
	hex.Decode(id[:], []byte(pl.Challenge.Signature))
	if !hmac.Equal(id[:], i.signV2(p)) {
		return Proof{}, ErrForged
	}
	if p.Data.Site != site {
		return Proof{}, fmt.Errorf("%w: issued for another site", ErrForged)
	}
	key, _ := hex.DecodeString(pl.Solution.DerivedKey)
	keySig, _ := hex.DecodeString(p.KeySignature)
	if !hmac.Equal(keySig, i.signKey(key)) || !p.HasPrefix(key) {
		return Proof{}, ErrUnsolved
	}
	return Proof{ID: id, Expires: time.Unix(p.ExpiresAt, 0)}, nil
}

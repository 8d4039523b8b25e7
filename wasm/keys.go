//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// pinnedKey, when a hotline builds its own module with
// -ldflags "-X main.pinnedKey=hlvk_…", is a verification key the module
// requires whatever the page says; see docs/key-statement.md.
var pinnedKey string

// clockSkew is how far a device's clock may be off and a statement still
// be taken as valid.
const clockSkew = 24 * time.Hour

// trust is where the form's verification key and minimum serial come
// from. None of it is from the relay's configuration: the key from the
// frame's address is the embed snippet's data-hotline-key, and the one in
// the frame's configuration is written only by `hotline publish`.
type trust struct {
	keys      []string
	minSerial uint64
}

// readTrust gathers the verification keys given to the frame (compiled
// in, in the frame's address as k, or in a frame the hotline published as
// hotlineKey) and the minimum serial a published frame gives (minSerial).
func readTrust(cfg safejs.Value) (trust, error) {
	t := trust{keys: []string{pinnedKey, optString(cfg, "hotlineKey")}}
	if loc, err := safejs.Global().Get("location"); err == nil {
		if usp, err := safejs.Global().Get("URLSearchParams"); err == nil {
			if q, err := usp.New(getString(loc, "search")); err == nil {
				t.keys = append(t.keys, param(q, "k"))
			}
		}
	}
	if s := optString(cfg, "minSerial"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return t, errors.New("the minimum key serial is not a number")
		}
		t.minSerial = n
	}
	return t, nil
}

// optString returns a string property, or "" if v has none.
func optString(v safejs.Value, prop string) string {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeString {
		return ""
	}
	s, _ := p.String()
	return s
}

// param returns a URLSearchParams' value for name, or "" if it has none.
func param(q safejs.Value, name string) string {
	v, err := q.Call("get", name)
	if err != nil || v.IsNull() {
		return ""
	}
	s, _ := v.String()
	return s
}

// key returns the one hotline verification key given to the frame, as
// its unpadded base64url without the prefix: what the key statement and
// the hotline's replies to a reporter (docs/follow-up.md) must verify
// against.
func (t trust) key() (string, error) {
	key := ""
	for _, k := range t.keys {
		if k != "" && key != "" && k != key {
			return "", errors.New("the hotline verification keys given to this form differ")
		}
		if k != "" {
			key = k
		}
	}
	pub, ok := strings.CutPrefix(key, statement.VerificationKeyPrefix)
	if !ok || len(pub) != 43 || strings.Trim(pub, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "", errors.New("no hotline verification key: the embed snippet needs data-hotline-key=\"hlvk_…\", from the hotline")
	}
	return pub, nil
}

// verifiedRecipients checks the hotline's key statement as the frame
// gives it and returns its recipients, or says why it cannot seal to
// them. The signature is checked with the browser's WebCrypto, so the
// module carries no Ed25519 code.
func verifiedRecipients(text, hotline string, t trust) (*report.Recipients, error) {
	pub, err := t.key()
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, errors.New("no key statement signed by the hotline")
	}
	st, err := statement.Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	valid, err := verifyEd25519(pub, st.SignedText(), st.Signature)
	if err != nil {
		return nil, fmt.Errorf("failed to verify the key statement: %w", err)
	}
	if !valid {
		return nil, statement.ErrSignature
	}
	if err := st.Check(hotline, t.minSerial, time.Now(), clockSkew); err != nil {
		return nil, err
	}
	return report.ParseRecipients(st.Recipients)
}

// verifyEd25519 checks an Ed25519 signature with crypto.subtle, for a
// public key in unpadded base64url, as a JSON Web Key writes it.
func verifyEd25519(pub string, msg, sig []byte) (bool, error) {
	subtle, err := safejs.Global().Get("crypto")
	if err == nil {
		subtle, err = subtle.Get("subtle")
	}
	if err != nil || subtle.IsUndefined() {
		return false, errors.New("this browser has no WebCrypto")
	}
	// The key and its use, made by the browser's JSON parser: the
	// base64url alphabet needs no escaping.
	args, err := parseJSON(`[{"kty":"OKP","crv":"Ed25519","x":"` + pub + `"},["verify"]]`)
	if err != nil {
		return false, errors.New("the hotline verification key is malformed")
	}
	jwk, _ := args.Index(0)
	usages, _ := args.Index(1)
	p, err := subtle.Call("importKey", "jwk", jwk, "Ed25519", false, usages)
	if err != nil {
		return false, err
	}
	key, err := await(p)
	if err != nil {
		return false, fmt.Errorf("the hotline verification key is not usable (%w)", err)
	}
	if p, err = subtle.Call("verify", "Ed25519", key, jsBytes(sig), jsBytes(msg)); err != nil {
		return false, err
	}
	v, err := await(p)
	if err != nil {
		return false, err
	}
	return v.Bool()
}

// jsBytes copies b into a new Uint8Array.
func jsBytes(b []byte) safejs.Value {
	u8, _ := safejs.Global().Get("Uint8Array")
	a, err := u8.New(len(b))
	if err == nil {
		safejs.CopyBytesToJS(a, b)
	}
	return a
}

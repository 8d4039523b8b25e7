package delivery_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/fuzzseed"
)

func FuzzParseSignatureHeader(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, s string) {
		sigs, err := delivery.ParseSignatureHeader(s)
		if err != nil {
			if !errors.Is(err, delivery.ErrMalformedHeader) {
				t.Fatalf("error %v does not wrap ErrMalformedHeader", err)
			}
			if sigs != nil {
				t.Fatalf("returned %v with an error", sigs)
			}
			return
		}
		if len(s) > 4096 || len(sigs) == 0 || len(sigs) > 16 {
			t.Fatalf("accepted %d bytes with %d entries", len(s), len(sigs))
		}
		parts := make([]string, len(sigs))
		for i, sig := range sigs {
			if sig.Version == "" || sig.Value == "" ||
				strings.ContainsAny(sig.Version, ", ") || strings.ContainsAny(sig.Value, ", ") {
				t.Fatalf("entry %d is malformed: %q", i, sig)
			}
			parts[i] = sig.String()
		}
		// Every accepted header is, up to extra spaces, the entries joined
		// with single spaces, and reformatting parses back to the same.
		norm := strings.Join(parts, " ")
		if norm != strings.Join(strings.Fields(s), " ") {
			t.Fatalf("%q reformats as %q", s, norm)
		}
		again, err := delivery.ParseSignatureHeader(norm)
		if err != nil || !slices.Equal(again, sigs) {
			t.Fatalf("reparsing %q = %v, %v; want %v", norm, again, err, sigs)
		}
	})
}

// FuzzVerify feeds arbitrary header values and bodies to a verifier that
// trusts the test vector's HMAC secret and the Ed25519 test key, at the test
// vector's time. Verify must not panic, must fail only with this package's
// errors, and may succeed only if the header contains exactly the signature
// one of the trusted signers produces: nothing else can be forged.
func FuzzVerify(f *testing.F) {
	fuzzseed.Require(f)
	hs := mustHMAC(f, vectorSecret)
	es := mustEd25519(f, vectorEd25519Secret64)
	v := mustVerifier(f, vectorSecret, vectorEd25519Public)
	sentinels := []error{
		delivery.ErrMissingHeaders, delivery.ErrMalformedHeader, delivery.ErrBadSignature,
		delivery.ErrTimestampTooOld, delivery.ErrTimestampTooNew,
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(delivery.HeaderID, id)
		h.Set(delivery.HeaderTimestamp, ts)
		h.Set(delivery.HeaderSignature, sig)
		gotID, gotTS, err := v.Verify(h, body, vectorTime)
		if err != nil {
			if !slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
				t.Fatalf("error %v wraps none of the sentinels", err)
			}
			return
		}
		if gotID != id || gotTS.Unix() < vectorTimestamp-300 || gotTS.Unix() > vectorTimestamp+300 {
			t.Fatalf("Verify = %q, %v for id %q, timestamp %q", gotID, gotTS, id, ts)
		}
		entries, err := delivery.ParseSignatureHeader(sig)
		if err != nil {
			t.Fatalf("accepted a header ParseSignatureHeader rejects: %v", err)
		}
		var want []string
		for _, s := range []delivery.Signer{hs, es} {
			w, err := s.Sign(id, gotTS, body)
			if err != nil {
				t.Fatalf("accepted a delivery the signers refuse: %v", err)
			}
			want = append(want, w)
		}
		for _, e := range entries {
			if slices.Contains(want, e.String()) {
				return
			}
		}
		t.Fatalf("accepted %q, which contains none of %q", sig, want)
	})
}

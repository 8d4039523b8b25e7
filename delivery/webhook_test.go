package delivery_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
)

// Test vector from the official Go library's TestWebhookSign
// (libraries/go/webhook_test.go in github.com/standard-webhooks/standard-webhooks),
// also used by the other official libraries.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// Ed25519 test vector from TestAsymmetricWebhookSign in
// libraries/go/webhook_asymmetric_test.go of the same repository (pull
// request #253, which adds v1a to the Go library). Its key is the 32-byte
// seed "TESTSIGNINGKEYDONOTUSETHISFORANY"; vectorEd25519Secret64 is the same
// key in the 64-byte form this package generates.
const (
	vectorEd25519Seed     = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="
	vectorEd25519Secret64 = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTllmU3h6Dt1JKqLSahf2FBSTeius6i4rdBVBKUlrbjxz+A=="
	vectorEd25519Public   = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
	vectorEd25519Sig      = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
)

var vectorTime = time.Unix(vectorTimestamp, 0)

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set(delivery.HeaderID, vectorID)
	h.Set(delivery.HeaderTimestamp, strconv.Itoa(vectorTimestamp))
	h.Set(delivery.HeaderSignature, sig)
	return h
}

func mustHMAC(t testing.TB, secret string) *delivery.HMACSigner {
	t.Helper()
	s, err := delivery.NewHMACSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustEd25519(t testing.TB, secretKey string) *delivery.Ed25519Signer {
	t.Helper()
	s, err := delivery.NewEd25519Signer(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustVerifier(t testing.TB, keys ...string) *delivery.Verifier {
	t.Helper()
	v, err := delivery.NewVerifier(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVectors(t *testing.T) {
	tests := []struct {
		name      string
		signerKey string
		newSigner func(string) (delivery.Signer, error)
		verifyKey string
		want      string
	}{
		{"hmac whsec_", vectorSecret, hmacSigner, vectorSecret, vectorSignature},
		{"hmac bare base64", strings.TrimPrefix(vectorSecret, "whsec_"), hmacSigner, strings.TrimPrefix(vectorSecret, "whsec_"), vectorSignature},
		{"ed25519 seed", vectorEd25519Seed, ed25519Signer, vectorEd25519Public, vectorEd25519Sig},
		{"ed25519 64-byte key", vectorEd25519Secret64, ed25519Signer, vectorEd25519Public, vectorEd25519Sig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.newSigner(tt.signerKey)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Sign(vectorID, vectorTime, []byte(vectorBody))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
			v := mustVerifier(t, tt.verifyKey)
			id, ts, err := v.Verify(vectorHeader(tt.want), []byte(vectorBody), vectorTime)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id != vectorID || !ts.Equal(vectorTime) {
				t.Errorf("Verify = %q, %v, want %q, %v", id, ts, vectorID, vectorTime)
			}
		})
	}
}

func hmacSigner(k string) (delivery.Signer, error)    { return delivery.NewHMACSigner(k) }
func ed25519Signer(k string) (delivery.Signer, error) { return delivery.NewEd25519Signer(k) }

func TestEd25519PublicKey(t *testing.T) {
	for _, k := range []string{vectorEd25519Seed, vectorEd25519Secret64} {
		if got := mustEd25519(t, k).PublicKey(); got != vectorEd25519Public {
			t.Errorf("PublicKey of %.12s… = %q, want %q", k, got, vectorEd25519Public)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	hmacSecret, err := delivery.GenerateHMACSecret()
	if err != nil {
		t.Fatal(err)
	}
	edSecret, edPublic, err := delivery.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	hs := mustHMAC(t, hmacSecret)
	es := mustEd25519(t, edSecret)
	if es.PublicKey() != edPublic {
		t.Fatalf("PublicKey = %q, GenerateEd25519 returned %q", es.PublicKey(), edPublic)
	}
	tests := []struct {
		name   string
		signer delivery.Signer
		keys   []string
	}{
		{"hmac", hs, []string{hmacSecret}},
		{"ed25519", es, []string{edPublic}},
		{"both signers, hmac verifier", delivery.MultiSigner(hs, es), []string{hmacSecret}},
		{"both signers, ed25519 verifier", delivery.MultiSigner(hs, es), []string{edPublic}},
		{"hmac signer, mixed verifier", hs, []string{edPublic, hmacSecret}},
		{"ed25519 signer, mixed verifier", es, []string{hmacSecret, edPublic}},
	}
	now := time.Now()
	bodies := [][]byte{nil, {}, []byte(`{"report":"..."}`), []byte("a.b.c\x00\xff")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, tt.keys...)
			for _, body := range bodies {
				h := http.Header{}
				if err := delivery.SetHeaders(h, tt.signer, "msg_1", now, body); err != nil {
					t.Fatal(err)
				}
				id, ts, err := v.Verify(h, body, now)
				if err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if id != "msg_1" || ts.Unix() != now.Unix() {
					t.Errorf("body %q: Verify = %q, %v", body, id, ts)
				}
			}
		})
	}
}

func TestGenerateFormats(t *testing.T) {
	sec, err := delivery.GenerateHMACSecret()
	if err != nil {
		t.Fatal(err)
	}
	// 32 bytes is 44 base64 characters.
	if !strings.HasPrefix(sec, "whsec_") || len(sec) != len("whsec_")+44 {
		t.Errorf("GenerateHMACSecret = %d chars with prefix %.6q", len(sec), sec)
	}
	sk, pk, err := delivery.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	// 64 bytes is 88 base64 characters, 32 bytes is 44.
	if !strings.HasPrefix(sk, "whsk_") || len(sk) != len("whsk_")+88 {
		t.Errorf("GenerateEd25519 secret key = %d chars with prefix %.5q", len(sk), sk)
	}
	if !strings.HasPrefix(pk, "whpk_") || len(pk) != len("whpk_")+44 {
		t.Errorf("GenerateEd25519 public key = %q", pk)
	}
	sec2, _ := delivery.GenerateHMACSecret()
	sk2, _, _ := delivery.GenerateEd25519()
	if sec == sec2 || sk == sk2 {
		t.Error("two generated keys are equal")
	}
}

func TestVerifyRejects(t *testing.T) {
	body := []byte(vectorBody)
	signed := func(mutate func(http.Header)) func() http.Header {
		return func() http.Header {
			h := vectorHeader(vectorSignature)
			if mutate != nil {
				mutate(h)
			}
			return h
		}
	}
	set := func(name, value string) func() http.Header {
		return signed(func(h http.Header) { h.Set(name, value) })
	}
	// resigned returns headers validly signed with the vector secret for id
	// and ts, to test the clock checks independently of the signature.
	resigned := func(ts time.Time) func() http.Header {
		return func() http.Header {
			h := http.Header{}
			if err := delivery.SetHeaders(h, mustHMAC(t, vectorSecret), vectorID, ts, body); err != nil {
				t.Fatal(err)
			}
			return h
		}
	}
	tests := []struct {
		name    string
		keys    []string
		header  func() http.Header
		body    string
		now     time.Time
		wantErr error // nil means accepted
	}{
		{name: "valid", header: signed(nil)},
		{name: "tampered body", header: signed(nil), body: `{"test": 2432232315}`, wantErr: delivery.ErrBadSignature},
		{name: "empty body", header: signed(nil), body: "-", wantErr: delivery.ErrBadSignature},
		{name: "tampered id", header: set(delivery.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJel"), wantErr: delivery.ErrBadSignature},
		{name: "tampered timestamp", header: set(delivery.HeaderTimestamp, "1614265331"), wantErr: delivery.ErrBadSignature},
		{name: "wrong hmac key", keys: []string{"whsec_" + strings.Repeat("A", 32)}, header: signed(nil), wantErr: delivery.ErrBadSignature},
		{name: "wrong ed25519 key", keys: []string{"whpk_" + strings.Repeat("A", 43) + "="}, header: signed(nil), wantErr: delivery.ErrBadSignature},
		{name: "ed25519 key, hmac signature", keys: []string{vectorEd25519Public}, header: signed(nil), wantErr: delivery.ErrBadSignature},
		{name: "hmac key, ed25519 signature", header: set(delivery.HeaderSignature, vectorEd25519Sig), wantErr: delivery.ErrBadSignature},
		{name: "hmac signature labelled v1a", header: set(delivery.HeaderSignature, "v1a"+vectorSignature[2:]), wantErr: delivery.ErrBadSignature},
		{name: "ed25519 signature labelled v1", keys: []string{vectorEd25519Public}, header: set(delivery.HeaderSignature, "v1"+vectorEd25519Sig[3:]), wantErr: delivery.ErrBadSignature},
		{name: "only unknown versions", header: set(delivery.HeaderSignature, "v2"+vectorSignature[2:]+" v0"+vectorSignature[2:]), wantErr: delivery.ErrBadSignature},
		{name: "truncated signature", header: set(delivery.HeaderSignature, vectorSignature[:len(vectorSignature)-2]), wantErr: delivery.ErrBadSignature},
		{name: "unpadded signature", header: set(delivery.HeaderSignature, strings.TrimSuffix(vectorSignature, "=")), wantErr: delivery.ErrBadSignature},
		{name: "non-canonical base64", header: set(delivery.HeaderSignature, strings.TrimSuffix(vectorSignature, "E=")+"F="), wantErr: delivery.ErrBadSignature},
		{name: "base64url signature", header: set(delivery.HeaderSignature, strings.NewReplacer("+", "-", "/", "_").Replace(vectorSignature)), wantErr: delivery.ErrBadSignature},
		{name: "partial signature", header: set(delivery.HeaderSignature, "v1,="), wantErr: delivery.ErrBadSignature},

		{name: "at tolerance, past", header: signed(nil), now: vectorTime.Add(delivery.DefaultTolerance)},
		{name: "at tolerance, future", header: signed(nil), now: vectorTime.Add(-delivery.DefaultTolerance)},
		{name: "stale", header: signed(nil), now: vectorTime.Add(delivery.DefaultTolerance + time.Second), wantErr: delivery.ErrTimestampTooOld},
		{name: "stale by a nanosecond", header: signed(nil), now: vectorTime.Add(delivery.DefaultTolerance + 1), wantErr: delivery.ErrTimestampTooOld},
		{name: "very stale", header: signed(nil), now: vectorTime.AddDate(5, 0, 0), wantErr: delivery.ErrTimestampTooOld},
		{name: "future", header: signed(nil), now: vectorTime.Add(-delivery.DefaultTolerance - time.Second), wantErr: delivery.ErrTimestampTooNew},
		{name: "far future", header: resigned(time.Unix(1<<62, 0)), now: vectorTime, wantErr: delivery.ErrTimestampTooNew},
		{name: "stale, forged", header: set(delivery.HeaderSignature, "v1,AAAA"), now: vectorTime.Add(time.Hour), wantErr: delivery.ErrTimestampTooOld},
		{name: "epoch", header: resigned(time.Unix(0, 0)), now: vectorTime, wantErr: delivery.ErrTimestampTooOld},

		{name: "missing id", header: signed(func(h http.Header) { h.Del(delivery.HeaderID) }), wantErr: delivery.ErrMissingHeaders},
		{name: "missing timestamp", header: signed(func(h http.Header) { h.Del(delivery.HeaderTimestamp) }), wantErr: delivery.ErrMissingHeaders},
		{name: "missing signature", header: signed(func(h http.Header) { h.Del(delivery.HeaderSignature) }), wantErr: delivery.ErrMissingHeaders},
		{name: "empty signature", header: set(delivery.HeaderSignature, ""), wantErr: delivery.ErrMissingHeaders},
		{name: "no headers", header: func() http.Header { return http.Header{} }, wantErr: delivery.ErrMissingHeaders},
		{name: "nil header", header: func() http.Header { return nil }, wantErr: delivery.ErrMissingHeaders},

		{name: "repeated id", header: signed(func(h http.Header) { h.Add(delivery.HeaderID, "msg_other") }), wantErr: delivery.ErrMalformedHeader},
		{name: "repeated signature", header: signed(func(h http.Header) { h.Add(delivery.HeaderSignature, vectorSignature) }), wantErr: delivery.ErrMalformedHeader},
		{name: "id with dot", header: set(delivery.HeaderID, "msg.1"), wantErr: delivery.ErrMalformedHeader},
		{name: "id with space", header: set(delivery.HeaderID, "msg 1"), wantErr: delivery.ErrMalformedHeader},
		{name: "id too long", header: set(delivery.HeaderID, strings.Repeat("a", 257)), wantErr: delivery.ErrMalformedHeader},
		{name: "timestamp with plus", header: set(delivery.HeaderTimestamp, "+1614265330"), wantErr: delivery.ErrMalformedHeader},
		{name: "negative timestamp", header: set(delivery.HeaderTimestamp, "-1"), wantErr: delivery.ErrMalformedHeader},
		{name: "timestamp with leading zero", header: set(delivery.HeaderTimestamp, "01614265330"), wantErr: delivery.ErrMalformedHeader},
		{name: "fractional timestamp", header: set(delivery.HeaderTimestamp, "1614265330.0"), wantErr: delivery.ErrMalformedHeader},
		{name: "timestamp in milliseconds overflow", header: set(delivery.HeaderTimestamp, "99999999999999999999"), wantErr: delivery.ErrMalformedHeader},
		{name: "timestamp out of int64", header: set(delivery.HeaderTimestamp, "9999999999999999999"), wantErr: delivery.ErrMalformedHeader},
		{name: "RFC 3339 timestamp", header: set(delivery.HeaderTimestamp, "2021-02-25T15:02:10Z"), wantErr: delivery.ErrMalformedHeader},
		{name: "signature without comma", header: set(delivery.HeaderSignature, "v1"), wantErr: delivery.ErrMalformedHeader},
		{name: "17 signatures", header: set(delivery.HeaderSignature, strings.Repeat("v2,x ", 16)+vectorSignature), wantErr: delivery.ErrMalformedHeader},
		{name: "signature header over 4 KiB", header: set(delivery.HeaderSignature, vectorSignature+" v2,"+strings.Repeat("x", 4096)), wantErr: delivery.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = []string{vectorSecret}
			}
			b := body
			switch tt.body {
			case "":
			case "-":
				b = nil
			default:
				b = []byte(tt.body)
			}
			now := tt.now
			if now.IsZero() {
				now = vectorTime
			}
			id, ts, err := mustVerifier(t, keys...).Verify(tt.header(), b, now)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if id != "" || !ts.IsZero() {
				t.Errorf("Verify returned %q, %v with an error", id, ts)
			}
			if !strings.HasPrefix(err.Error(), "verify webhook: ") {
				t.Errorf("error %q does not start with the operation", err)
			}
		})
	}
}

func TestTolerance(t *testing.T) {
	h := vectorHeader(vectorSignature)
	body := []byte(vectorBody)
	tests := []struct {
		tolerance time.Duration
		age       time.Duration
		wantErr   error
	}{
		{time.Minute, time.Minute, nil},
		{time.Minute, time.Minute + time.Second, delivery.ErrTimestampTooOld},
		{time.Minute, -time.Minute - time.Second, delivery.ErrTimestampTooNew},
		{time.Hour, 59 * time.Minute, nil},
		{time.Hour, -59 * time.Minute, nil},
		{0, delivery.DefaultTolerance, nil},
		{0, delivery.DefaultTolerance + time.Second, delivery.ErrTimestampTooOld},
		{-time.Hour, delivery.DefaultTolerance + time.Second, delivery.ErrTimestampTooOld},
	}
	for _, tt := range tests {
		v := mustVerifier(t, vectorSecret)
		if v.Tolerance != delivery.DefaultTolerance {
			t.Fatalf("NewVerifier Tolerance = %v, want %v", v.Tolerance, delivery.DefaultTolerance)
		}
		v.Tolerance = tt.tolerance
		_, _, err := v.Verify(h, body, vectorTime.Add(tt.age))
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("tolerance %v, age %v: error = %v, want %v", tt.tolerance, tt.age, err, tt.wantErr)
		}
		// CheckHeaders, which needs no body, says the same.
		err = v.CheckHeaders(h, vectorTime.Add(tt.age))
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("CheckHeaders: tolerance %v, age %v: error = %v, want %v", tt.tolerance, tt.age, err, tt.wantErr)
		}
	}
}

func TestMultipleSignatures(t *testing.T) {
	oldSecret := vectorSecret
	newSecret, err := delivery.GenerateHMACSecret()
	if err != nil {
		t.Fatal(err)
	}
	edSecret, edPublic, err := delivery.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, _ := delivery.GenerateHMACSecret()
	body := []byte(vectorBody)

	// As in the official libraries' "valid multi sig is valid" case: junk,
	// unknown versions and one valid entry.
	mixed := strings.Join([]string{
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		"v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		vectorSignature,
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
	}, " ")
	if _, _, err := mustVerifier(t, vectorSecret).Verify(vectorHeader(mixed), body, vectorTime); err != nil {
		t.Errorf("mixed header: %v", err)
	}
	// Extra spaces between entries are tolerated.
	if _, _, err := mustVerifier(t, vectorSecret).Verify(vectorHeader("v2,x   "+vectorSignature+" "), body, vectorTime); err != nil {
		t.Errorf("extra spaces: %v", err)
	}
	// Exactly 16 entries, the last one valid.
	sixteen := strings.Repeat("v2,x ", 15) + vectorSignature
	if _, _, err := mustVerifier(t, vectorSecret).Verify(vectorHeader(sixteen), body, vectorTime); err != nil {
		t.Errorf("16 entries: %v", err)
	}

	tests := []struct {
		name    string
		signers []delivery.Signer
		keys    []string
		wantErr error
	}{
		{"old key signs, verifier trusts old and new", []delivery.Signer{mustHMAC(t, oldSecret)}, []string{oldSecret, newSecret}, nil},
		{"new key signs, verifier trusts old and new", []delivery.Signer{mustHMAC(t, newSecret)}, []string{oldSecret, newSecret}, nil},
		{"both sign, verifier trusts old", []delivery.Signer{mustHMAC(t, oldSecret), mustHMAC(t, newSecret)}, []string{oldSecret}, nil},
		{"both sign, verifier trusts new", []delivery.Signer{mustHMAC(t, oldSecret), mustHMAC(t, newSecret)}, []string{newSecret}, nil},
		{"hmac to ed25519 migration", []delivery.Signer{mustHMAC(t, oldSecret), mustEd25519(t, edSecret)}, []string{edPublic}, nil},
		{"both sign, verifier trusts neither", []delivery.Signer{mustHMAC(t, oldSecret), mustHMAC(t, newSecret)}, []string{otherSecret}, delivery.ErrBadSignature},
		{"ed25519 signs, verifier trusts hmac only", []delivery.Signer{mustEd25519(t, edSecret)}, []string{oldSecret, newSecret}, delivery.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if err := delivery.SetHeaders(h, delivery.MultiSigner(tt.signers...), vectorID, vectorTime, body); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(h.Get(delivery.HeaderSignature), " ") + 1; n != len(tt.signers) {
				t.Errorf("header has %d entries, want %d", n, len(tt.signers))
			}
			_, _, err := mustVerifier(t, tt.keys...).Verify(h, body, vectorTime)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Verify error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestEd25519EntriesBounded sends headers with more v1a entries than a
// sender signs with: each one makes the verifier hash the whole body again
// for every key it trusts, so that a header of 16 forged entries made a
// sender without a key cost the intake 16 hashes of a 4 MB batch. Only the
// first two v1a entries are checked: a genuine entry after two forged ones
// is not, and one after a single forged entry (a sender rotating its key)
// still is.
func TestEd25519EntriesBounded(t *testing.T) {
	body := []byte(`{"type":"report.batch"}`)
	oldSecret, oldPublic, _ := delivery.GenerateEd25519()
	newSecret, newPublic, _ := delivery.GenerateEd25519()
	forged := "v1a," + base64.StdEncoding.EncodeToString(make([]byte, 64))
	genuine, err := mustEd25519(t, newSecret).Sign(vectorID, vectorTime, body)
	if err != nil {
		t.Fatal(err)
	}
	both, err := delivery.MultiSigner(mustEd25519(t, oldSecret), mustEd25519(t, newSecret)).Sign(vectorID, vectorTime, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, header string
		keys         []string
		wantErr      error
	}{
		{"genuine after one forged entry", forged + " " + genuine, []string{newPublic}, nil},
		{"old and new key sign, verifier trusts new", both, []string{newPublic}, nil},
		{"old and new key sign, verifier trusts both", both, []string{oldPublic, newPublic}, nil},
		{"HMAC and malformed entries do not count", "v1,x v1a,x v1a,AAAA " + forged + " " + genuine, []string{newPublic}, nil},
		{"genuine after two forged entries", forged + " " + forged + " " + genuine, []string{newPublic}, delivery.ErrBadSignature},
		{"genuine after fifteen forged entries", strings.Repeat(forged+" ", 15) + genuine, []string{oldPublic, newPublic}, delivery.ErrBadSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := mustVerifier(t, tt.keys...).Verify(vectorHeader(tt.header), body, vectorTime)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Verify error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMalformedKeys(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name string
		fn   func(string) error
		key  string
		hint string // must appear in the error message
	}{
		{"hmac empty", newHMAC, "", "0 bytes"},
		{"hmac prefix only", newHMAC, "whsec_", "0 bytes"},
		{"hmac too short", newHMAC, "whsec_" + b64(23), "23 bytes"},
		{"hmac too long", newHMAC, "whsec_" + b64(65), "65 bytes"},
		{"hmac not base64", newHMAC, "whsec_not*base64*at*all*characters!", "base64"},
		{"hmac base64url", newHMAC, "whsec_" + strings.Repeat("-_", 16), "base64"},
		{"hmac given whsk_", newHMAC, vectorEd25519Secret64, "whsk_"},
		{"hmac given whpk_", newHMAC, vectorEd25519Public, "whpk_"},
		{"hmac wrong prefix", newHMAC, "wh_sec" + b64(24), "base64"},

		{"ed25519 empty", newEd25519, "", "whsk_"},
		{"ed25519 bare base64", newEd25519, strings.TrimPrefix(vectorEd25519Secret64, "whsk_"), "whsk_ prefix"},
		{"ed25519 given whpk_", newEd25519, vectorEd25519Public, "whpk_"},
		{"ed25519 given whsec_", newEd25519, vectorSecret, "whsec_"},
		{"ed25519 wrong length", newEd25519, "whsk_" + b64(48), "48 bytes"},
		{"ed25519 not base64", newEd25519, "whsk_!!!!", "base64"},
		{"ed25519 mismatched public half", newEd25519, strings.TrimSuffix(vectorEd25519Secret64, "+A==") + "AA==", "does not match"},

		{"verifier no keys", newVerifier(), "", "no keys"},
		{"verifier given whsk_", newVerifier(vectorSecret), vectorEd25519Secret64, "key 2: "},
		{"verifier whpk_ too short", newVerifier(), "whpk_" + b64(31), "31 bytes"},
		{"verifier whpk_ too long", newVerifier(), "whpk_" + b64(64), "64 bytes"},
		{"verifier whpk_ not base64", newVerifier(), "whpk_%%%%", "base64"},
		{"verifier short hmac", newVerifier(vectorEd25519Public), b64(16), "16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fn(tt.key)
			if !errors.Is(err, delivery.ErrMalformedKey) {
				t.Fatalf("error = %v, want ErrMalformedKey", err)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error %q does not mention %q", err, tt.hint)
			}
			if len(tt.key) > 12 && strings.Contains(err.Error(), tt.key[len(tt.key)-12:]) {
				t.Errorf("error %q contains key material", err)
			}
		})
	}
}

func newHMAC(k string) error    { _, err := delivery.NewHMACSigner(k); return err }
func newEd25519(k string) error { _, err := delivery.NewEd25519Signer(k); return err }

// newVerifier returns a constructor call with the given keys first and the
// tested key last, or with no keys at all if the tested key is empty.
func newVerifier(first ...string) func(string) error {
	return func(k string) error {
		keys := first
		if k != "" {
			keys = append(append([]string(nil), first...), k)
		}
		_, err := delivery.NewVerifier(keys...)
		return err
	}
}

func TestSignRejects(t *testing.T) {
	signers := map[string]delivery.Signer{
		"hmac":    mustHMAC(t, vectorSecret),
		"ed25519": mustEd25519(t, vectorEd25519Seed),
		"multi":   delivery.MultiSigner(mustHMAC(t, vectorSecret)),
	}
	tests := []struct {
		name string
		id   string
		ts   time.Time
	}{
		{"empty id", "", vectorTime},
		{"id with dot", "msg.1", vectorTime},
		{"id with newline", "msg\n1", vectorTime},
		{"id with space", "msg 1", vectorTime},
		{"id too long", strings.Repeat("m", 257), vectorTime},
		{"timestamp before 1970", "msg_1", time.Unix(-1, 0)},
	}
	for sname, s := range signers {
		for _, tt := range tests {
			if _, err := s.Sign(tt.id, tt.ts, nil); err == nil {
				t.Errorf("%s: %s: Sign succeeded", sname, tt.name)
			}
			h := http.Header{}
			if err := delivery.SetHeaders(h, s, tt.id, tt.ts, nil); err == nil {
				t.Errorf("%s: %s: SetHeaders succeeded", sname, tt.name)
			}
			if len(h) != 0 {
				t.Errorf("%s: %s: SetHeaders set headers on failure: %v", sname, tt.name, h)
			}
		}
	}
	if _, err := delivery.MultiSigner().Sign("msg_1", vectorTime, nil); err == nil {
		t.Error("empty MultiSigner succeeded")
	}
	many := make([]delivery.Signer, 17)
	for i := range many {
		many[i] = signers["hmac"]
	}
	if _, err := delivery.MultiSigner(many...).Sign("msg_1", vectorTime, nil); !errors.Is(err, delivery.ErrMalformedHeader) {
		t.Errorf("MultiSigner of 17: error = %v, want ErrMalformedHeader", err)
	}
	if err := delivery.SetHeaders(http.Header{}, nil, "msg_1", vectorTime, nil); err == nil {
		t.Error("SetHeaders with nil signer succeeded")
	}
	if err := delivery.SetHeaders(http.Header{}, badSigner("v1,has space,in it"), "msg_1", vectorTime, nil); !errors.Is(err, delivery.ErrMalformedHeader) {
		t.Errorf("SetHeaders with bad signer output: error = %v, want ErrMalformedHeader", err)
	}
}

type badSigner string

func (b badSigner) Sign(string, time.Time, []byte) (string, error) { return string(b), nil }

func TestSetHeaders(t *testing.T) {
	h := http.Header{}
	h.Set(delivery.HeaderSignature, "v1,stale")
	ts := vectorTime.Add(999 * time.Millisecond) // only whole seconds are signed
	if err := delivery.SetHeaders(h, mustHMAC(t, vectorSecret), vectorID, ts, []byte(vectorBody)); err != nil {
		t.Fatal(err)
	}
	want := vectorHeader(vectorSignature)
	if !reflect.DeepEqual(h, want) {
		t.Errorf("SetHeaders = %v, want %v", h, want)
	}
}

func TestParseSignatureHeader(t *testing.T) {
	tests := []struct {
		in      string
		want    []delivery.Signature
		wantErr bool
	}{
		{in: vectorSignature, want: []delivery.Signature{{"v1", vectorSignature[3:]}}},
		{in: "v1,a v1a,b v2,c", want: []delivery.Signature{{"v1", "a"}, {"v1a", "b"}, {"v2", "c"}}},
		{in: "  v1,a   v1a,b  ", want: []delivery.Signature{{"v1", "a"}, {"v1a", "b"}}},
		{in: "V9z,=+/", want: []delivery.Signature{{"V9z", "=+/"}}},
		{in: strings.Repeat("v1,a ", 16), want: func() []delivery.Signature {
			s := make([]delivery.Signature, 16)
			for i := range s {
				s[i] = delivery.Signature{Version: "v1", Value: "a"}
			}
			return s
		}()},
		{in: "v2," + strings.Repeat("x", 4093), want: []delivery.Signature{{"v2", strings.Repeat("x", 4093)}}},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "v1", wantErr: true},
		{in: "v1,", wantErr: true},
		{in: ",abc", wantErr: true},
		{in: "v1,a,b", wantErr: true},
		{in: "v-1,abc", wantErr: true},
		{in: "v1,a\tb", wantErr: true},
		{in: "v1\t,abc", wantErr: true},
		{in: "v1,abc\x00", wantErr: true},
		{in: "v1,caf\u00e9", wantErr: true},
		{in: "v1,a v1", wantErr: true},
		{in: strings.Repeat("v1,a ", 17), wantErr: true},
		{in: "v2," + strings.Repeat("x", 4094), wantErr: true},
	}
	for _, tt := range tests {
		got, err := delivery.ParseSignatureHeader(tt.in)
		name := tt.in
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		if tt.wantErr {
			if !errors.Is(err, delivery.ErrMalformedHeader) {
				t.Errorf("ParseSignatureHeader(%q) error = %v, want ErrMalformedHeader", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSignatureHeader(%q): %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSignatureHeader(%q) = %v, want %v", name, got, tt.want)
		}
	}
	if got := (delivery.Signature{Version: "v1", Value: "abc"}).String(); got != "v1,abc" {
		t.Errorf("Signature.String = %q", got)
	}
}

// TestNoSecretsInFormatting checks that printing signers and verifiers, as a
// careless log line might, does not reveal secrets.
func TestNoSecretsInFormatting(t *testing.T) {
	hs := mustHMAC(t, vectorSecret)
	es := mustEd25519(t, vectorEd25519Secret64)
	v := mustVerifier(t, vectorSecret, vectorEd25519Public)
	hmacRaw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vectorSecret, "whsec_"))
	seedRaw := []byte("TESTSIGNINGKEYDONOTUSETHISFORANY")
	secretish := []string{
		strings.TrimPrefix(vectorSecret, "whsec_"),
		strings.TrimPrefix(vectorEd25519Seed, "whsk_")[:40],
		string(seedRaw),
	}
	for _, raw := range [][]byte{hmacRaw, seedRaw} {
		secretish = append(secretish,
			fmt.Sprintf("%x", raw[:8]),
			fmt.Sprintf("%X", raw[:8]),
			strings.Trim(fmt.Sprintf("%d", raw[:8]), "[]"),
			strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", raw[:8]), "[]byte{"), "}"),
		)
	}
	for _, x := range []any{hs, *hs, es, *es, v, *v} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, x)
			for _, s := range secretish {
				if strings.Contains(out, s) {
					t.Errorf("Sprintf(%q, %T) = %q contains secret %q", verb, x, out, s)
				}
			}
		}
	}
	if out := fmt.Sprint(es); !strings.Contains(out, vectorEd25519Public) {
		t.Errorf("Ed25519Signer prints as %q, want its public key", out)
	}
}

// TestVerifyContent: a receiver that reads the body after SignedPrefix,
// into one buffer, verifies it as Verify verifies the body alone, and gets
// the body back; content that does not start with the headers' id and
// timestamp is refused.
func TestVerifyContent(t *testing.T) {
	body := []byte(`{"type":"report.batch"}`)
	sk, pk, _ := delivery.GenerateEd25519()
	v := mustVerifier(t, pk)
	h := http.Header{}
	if err := delivery.SetHeaders(h, mustEd25519(t, sk), vectorID, vectorTime, body); err != nil {
		t.Fatal(err)
	}
	prefix := delivery.SignedPrefix(h)
	if want := vectorID + "." + strconv.Itoa(vectorTimestamp) + "."; prefix != want {
		t.Fatalf("SignedPrefix = %q, want %q", prefix, want)
	}
	id, ts, got, err := v.VerifyContent(h, append([]byte(prefix), body...), vectorTime)
	if err != nil || id != vectorID || !ts.Equal(vectorTime) || string(got) != string(body) {
		t.Fatalf("VerifyContent = %q, %v, %q, %v", id, ts, got, err)
	}
	for name, content := range map[string]string{
		"another id":        "msg_other." + strconv.Itoa(vectorTimestamp) + "." + string(body),
		"another timestamp": vectorID + ".1614265331." + string(body),
		"no prefix":         string(body),
		"altered body":      prefix + string(body) + " ",
	} {
		if _, _, _, err := v.VerifyContent(h, []byte(content), vectorTime); !errors.Is(err, delivery.ErrBadSignature) {
			t.Errorf("%s: error %v, want ErrBadSignature", name, err)
		}
	}
	if _, _, _, err := v.VerifyContent(h, append([]byte(prefix), body...), vectorTime.Add(time.Hour)); !errors.Is(err, delivery.ErrTimestampTooOld) {
		t.Errorf("stale: error %v, want ErrTimestampTooOld", err)
	}
	if p := delivery.SignedPrefix(http.Header{}); p != "" {
		t.Errorf("SignedPrefix without headers = %q, want empty", p)
	}
}

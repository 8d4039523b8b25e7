package delivery_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/reportline/reportline/delivery"
)

// The relay signs a delivery with a shared HMAC secret and the intake
// verifies it. The secret, id, timestamp and body are the spec's test vector.
func Example() {
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)

	// Relay side.
	signer, err := delivery.NewHMACSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	if err := delivery.SetHeaders(h, signer, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body); err != nil {
		panic(err)
	}
	fmt.Println(h.Get(delivery.HeaderSignature))

	// Intake side, 30 seconds later.
	verifier, err := delivery.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	id, ts, err := verifier.Verify(h, body, sent.Add(30*time.Second))
	fmt.Println(id, ts.Unix(), err)

	// A replay an hour later is refused.
	_, _, err = verifier.Verify(h, body, sent.Add(time.Hour))
	fmt.Println(err)
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// msg_p5jXN8AQM9LWM0D4loKWxJek 1614265330 <nil>
	// verify webhook: webhook timestamp too old: signed 1h0m0s ago, tolerance 5m0s
}

// During a move from an HMAC secret to an Ed25519 key, the relay signs with
// both, and an intake that already trusts the public key accepts the delivery.
// In production the key pair comes from GenerateEd25519; this one is a test
// key.
func ExampleMultiSigner() {
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)

	oldSigner, err := delivery.NewHMACSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	newSigner, err := delivery.NewEd25519Signer("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	if err := delivery.SetHeaders(h, delivery.MultiSigner(oldSigner, newSigner), "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body); err != nil {
		panic(err)
	}
	for _, s := range must(delivery.ParseSignatureHeader(h.Get(delivery.HeaderSignature))) {
		fmt.Println(s.Version)
	}

	fmt.Println(newSigner.PublicKey())
	verifier, err := delivery.NewVerifier(newSigner.PublicKey())
	if err != nil {
		panic(err)
	}
	_, _, err = verifier.Verify(h, body, sent)
	fmt.Println(err)
	// Output:
	// v1
	// v1a
	// whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=
	// <nil>
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

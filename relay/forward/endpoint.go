package forward

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/reportline/reportline/delivery"
)

// Endpoint is where and how deliveries to one hotline go.
type Endpoint struct {
	// URL is the hotline's intake URL.
	URL string
	// Signer signs each delivery: v1a with the relay's key, or v1 with
	// the secret shared with this hotline.
	Signer delivery.Signer
	// Client sends the deliveries; its Timeout bounds one attempt. A nil
	// Client means http.DefaultClient, for tests.
	Client *http.Client
	// Concurrency bounds the requests under way to this endpoint (and its
	// client's connections); zero means one. As many reports are under
	// way, one per request, or, to an intake that takes batches,
	// batchesAtOnce times as many, in batches of up to Concurrency.
	Concurrency int
}

// NewClient returns the HTTP client for deliveries to one intake: tc for
// its TLS (see [ClientTLS]), timeout bounding one attempt, and at most
// concurrency connections (at least one).
func NewClient(tc *tls.Config, timeout time.Duration, concurrency int) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     tc,
			ForceAttemptHTTP2:   true,
			MaxConnsPerHost:     max(concurrency, 1),
			MaxIdleConnsPerHost: max(concurrency, 1),
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
	}
}

// ClientTLS returns the TLS settings for delivering to an intake: TLS 1.2
// or later, the client certificate from certFile and keyFile if set (for
// an intake that requires mutual TLS), and the CAs in caFile, if set,
// instead of the system's. Errors name the key of the file at fault.
func ClientTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client_cert_file, client_key_file: failed to load the client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("intake_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("intake_ca_file: %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

package forward

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/relay/config"
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
	// Concurrency bounds the deliveries under way to this endpoint; zero
	// means one.
	Concurrency int
}

// Endpoints builds the endpoint of every hotline in cfg: it reads the
// relay's signing key and each hotline's HMAC secret, client certificate
// and CA files, so that a missing or malformed file is found at start or
// at reload, not at the first delivery. Errors name the configuration key.
func Endpoints(cfg *config.Config) (map[string]Endpoint, error) {
	var relayKey delivery.Signer
	if cfg.Relay.SigningKeyFile != "" {
		key, err := delivery.ReadKeyFile(cfg.Relay.SigningKeyFile)
		if err != nil {
			return nil, fmt.Errorf("relay.signing_key_file: %w", err)
		}
		if relayKey, err = delivery.NewEd25519Signer(key); err != nil {
			return nil, fmt.Errorf("relay.signing_key_file: %w (make one with `relay keygen -o FILE`)", err)
		}
	}
	eps := make(map[string]Endpoint, len(cfg.Hotlines))
	var errs []error
	for i := range cfg.Hotlines {
		h := &cfg.Hotlines[i]
		ep, err := endpoint(h, relayKey, cfg.Relay.DeliveryTimeout.Duration)
		if err != nil {
			errs = append(errs, fmt.Errorf("hotline[%d] (%s): %w", i, h.ID, err))
			continue
		}
		eps[h.ID] = ep
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return eps, nil
}

func endpoint(h *config.Hotline, relayKey delivery.Signer, timeout time.Duration) (Endpoint, error) {
	ep := Endpoint{URL: h.IntakeURL, Concurrency: h.Concurrency}
	switch h.Signature {
	case config.SignatureHMAC:
		key, err := delivery.ReadKeyFile(h.HMACSecretFile)
		if err != nil {
			return Endpoint{}, fmt.Errorf("hmac_secret_file: %w", err)
		}
		if ep.Signer, err = delivery.NewHMACSigner(key); err != nil {
			return Endpoint{}, fmt.Errorf("hmac_secret_file: %w (make one with `relay keygen -hmac -o FILE`)", err)
		}
	default:
		if relayKey == nil {
			return Endpoint{}, errors.New("signature v1a needs relay.signing_key_file")
		}
		ep.Signer = relayKey
	}
	tc, err := ClientTLS(h.ClientCertFile, h.ClientKeyFile, h.IntakeCAFile)
	if err != nil {
		return Endpoint{}, err
	}
	ep.Client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     tc,
			ForceAttemptHTTP2:   true,
			MaxConnsPerHost:     max(h.Concurrency, 1),
			MaxIdleConnsPerHost: max(h.Concurrency, 1),
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
	}
	return ep, nil
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

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/forward"
)

// endpoints builds the endpoint of every hotline in cfg: it reads the
// relay's signing key and each hotline's HMAC secret, client certificate
// and CA files, so that a missing or malformed file is found at start or
// at reload, not at the first delivery. Errors name the configuration key.
func endpoints(cfg *config.Config) (map[string]forward.Endpoint, error) {
	var relayKey delivery.Signer
	if cfg.Relay.SigningKeyFile != "" {
		key, err := delivery.ReadKeyFile(cfg.Relay.SigningKeyFile)
		if err != nil {
			return nil, keyFileError("relay.signing_key_file", "relay keygen -o "+cfg.Relay.SigningKeyFile, err)
		}
		if relayKey, err = delivery.NewEd25519Signer(key); err != nil {
			return nil, fmt.Errorf("relay.signing_key_file: %w (make one with `relay keygen -o FILE`)", err)
		}
	}
	eps := make(map[string]forward.Endpoint, len(cfg.Hotlines))
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

// keyFileError is the error for a key file the relay could not read,
// named by its configuration key, with what to do: make the file with
// keygen (the command given) if it is missing, or let the relay's user
// read it.
func keyFileError(key, keygen string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w (make it with `%s`, or fix the path)", key, err, keygen)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: %w (the user the relay runs as must be able to read it: chown it to that user, mode 0600, or under systemd pass it with LoadCredential=, docs/deployment.md)", key, err)
	}
	return fmt.Errorf("%s: %w", key, err)
}

func endpoint(h *config.Hotline, relayKey delivery.Signer, timeout time.Duration) (forward.Endpoint, error) {
	ep := forward.Endpoint{URL: h.IntakeURL, Concurrency: h.Concurrency}
	switch h.Signature {
	case config.SignatureHMAC:
		key, err := delivery.ReadKeyFile(h.HMACSecretFile)
		if err != nil {
			return forward.Endpoint{}, keyFileError("hmac_secret_file", "relay keygen -hmac -o "+h.HMACSecretFile, err)
		}
		if ep.Signer, err = delivery.NewHMACSigner(key); err != nil {
			return forward.Endpoint{}, fmt.Errorf("hmac_secret_file: %w (make one with `relay keygen -hmac -o FILE`)", err)
		}
	default:
		if relayKey == nil {
			return forward.Endpoint{}, errors.New("signature v1a needs relay.signing_key_file")
		}
		ep.Signer = relayKey
	}
	tc, err := forward.ClientTLS(h.ClientCertFile, h.ClientKeyFile, h.IntakeCAFile)
	if err != nil {
		return forward.Endpoint{}, err
	}
	ep.Client = forward.NewClient(tc, timeout, h.Concurrency)
	return ep, nil
}

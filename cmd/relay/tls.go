package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/reportline/reportline/relay/config"
)

// setupTLS returns the TLS settings of the main listener, the handler of
// the plain-HTTP listener (a redirect to relay.public_url, which with ACME
// also answers HTTP-01 challenges), and, for certificate files, the
// loader that reads them again on reload.
func setupTLS(cfg *config.Config) (*tls.Config, http.Handler, *certFiles, error) {
	t := &cfg.Relay.TLS
	redirect := redirectTo(cfg.Relay.PublicURL)
	if t.ACME {
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(t.CacheDir),
			HostPolicy: autocert.HostWhitelist(t.Domains...),
			Email:      t.Email,
		}
		if t.ACMEDirectory != "" {
			m.Client = &acme.Client{DirectoryURL: t.ACMEDirectory}
		}
		tc := m.TLSConfig()
		tc.MinVersion = tls.VersionTLS12
		return tc, m.HTTPHandler(redirect), nil, nil
	}
	c := &certFiles{certFile: t.CertFile, keyFile: t.KeyFile}
	if err := c.load(); err != nil {
		return nil, nil, nil, err
	}
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil },
	}
	return tc, redirect, c, nil
}

// certFiles holds a certificate read from files, replaced whole on reload
// so that a renewed certificate needs no restart.
type certFiles struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func (c *certFiles) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("relay.tls.cert_file, relay.tls.key_file: failed to load the certificate: %w", err)
	}
	c.cert.Store(&cert)
	return nil
}

// redirectTo sends every plain-HTTP request to the same path on the
// relay's public origin. The target comes from the configuration, never
// from the request's Host header, so the relay cannot be used as an open
// redirect.
func redirectTo(publicURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, publicURL+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// hsts adds Strict-Transport-Security to every answer sent over TLS, so a
// browser that has reached the relay once never tries plain HTTP again.
func hsts(h http.Handler, maxAge time.Duration) http.Handler {
	v := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", v)
		}
		h.ServeHTTP(w, r)
	})
}

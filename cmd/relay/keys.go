package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/newfile"
)

// keygen writes a new delivery key to a file that must not exist, and
// prints what the intake needs: the public key for v1a, or a reminder
// that the secret file itself is shared for v1.
func keygen(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the secret key to (must not exist)")
	hmac := fs.Bool("hmac", false, "make a whsec_ HMAC secret (signature v1) instead of an Ed25519 key (v1a)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return errors.New("usage: relay keygen [-hmac] -o FILE")
	}
	var body, public string
	if *hmac {
		secret, err := delivery.GenerateHMACSecret()
		if err != nil {
			return err
		}
		body = fmt.Sprintf("# HMAC delivery secret (signature v1), created %s.\n"+
			"# The relay (hotline.hmac_secret_file) and the intake (hotline intake -verify-key-file)\n"+
			"# both need this file; copy it over a secure channel only.\n%s\n", now(), secret)
	} else {
		var err error
		if body, public, err = signingKey(); err != nil {
			return err
		}
	}
	if err := newfile.Write(*out, "key file", "keys and configurations are never overwritten", 0o600, body); err != nil {
		return err
	}
	if public != "" {
		fmt.Fprintln(stdout, public)
	} else {
		fmt.Fprintf(stdout, "wrote %s: give the same file to the hotline's intake\n", *out)
	}
	return nil
}

// signingKey makes a delivery signing key: the key file's text and the
// whpk_ public key the intake verifies with.
func signingKey() (body, public string, err error) {
	sk, pk, err := delivery.GenerateEd25519()
	if err != nil {
		return "", "", err
	}
	body = fmt.Sprintf("# relay delivery signing key (signature v1a), created %s.\n"+
		"# the hotline's intake verifies with:\n# %s\n%s\n", now(), pk, sk)
	return body, pk, nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

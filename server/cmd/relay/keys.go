package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/reportline/reportline/server/webhook"
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
		secret, err := webhook.GenerateHMACSecret()
		if err != nil {
			return err
		}
		body = fmt.Sprintf("# HMAC delivery secret (signature v1), created %s.\n"+
			"# The relay (hotline.hmac_secret_file) and the intake (hotline intake -verify-key-file)\n"+
			"# both need this file; copy it over a secure channel only.\n%s\n", now(), secret)
	} else {
		sk, pk, err := webhook.GenerateEd25519()
		if err != nil {
			return err
		}
		body = fmt.Sprintf("# relay delivery signing key (signature v1a), created %s.\n"+
			"# the hotline's intake verifies with:\n# %s\n%s\n", now(), pk, sk)
		public = pk
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return hint{fmt.Errorf("failed to create key file: %w", err), "keygen never overwrites a key: choose a new file name"}
	}
	if _, err := io.WriteString(f, body); err != nil {
		f.Close()
		return fmt.Errorf("failed to write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("failed to write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write key file: %w", err)
	}
	if public != "" {
		fmt.Fprintln(stdout, public)
	} else {
		fmt.Fprintf(stdout, "wrote %s: give the same file to the hotline's intake\n", *out)
	}
	return nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

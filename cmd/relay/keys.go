package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/reportline/reportline/delivery"
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
	if err := writeNewFile(*out, "key file", body); err != nil {
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

// writeNewFile writes a file, mode 0600, that must not exist yet, and
// synced; what names it in errors ("key file"). A file it could not write
// whole is removed.
func writeNewFile(path, what, body string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return hint{fmt.Errorf("failed to create %s: %w", what, err), createHint(path, err, "keys and configurations are never overwritten")}
	}
	_, err = io.WriteString(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("failed to write %s: %w", what, err)
	}
	return nil
}

// createHint says what to do when a new file at path could not be
// created: why, for a file that exists (never, which says why not), and
// where to look for a folder that is missing or not writable.
func createHint(path string, err error, never string) string {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return never + ": choose a new file name"
	case errors.Is(err, fs.ErrNotExist):
		return "the folder " + dir + " does not exist: make it first (mkdir -p " + dir + "), or choose another path"
	case errors.Is(err, fs.ErrPermission):
		return "this user cannot write in " + dir + ": choose a folder it can write to"
	}
	return "choose another path"
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/report"
)

// initConfig writes a working configuration to start from: the example
// (examples/relay.example.toml) with the hotline's recipients in place of
// its placeholder, and a fresh delivery signing key beside it. It checks
// the result as check-config does, and prints the key the intake needs.
func initConfig(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	out := fs.String("o", "relay.toml", "configuration file to write (must not exist)")
	keyFile := fs.String("signing-key", "relay-signing.key", "delivery signing key file to write (must not exist); the configuration names it as given")
	rcpts := fs.String("recipient", "", "the hotline's age public keys, age1pq1… as `hotline keygen` prints them; several separated by commas")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *rcpts == "" {
		return hint{errors.New("usage: relay init -recipient age1pq1… [-o relay.toml] [-signing-key relay-signing.key]"),
			"the hotline makes its key with `hotline keygen -o identity.txt` and gives you the age1pq1… line it prints"}
	}
	keys := strings.Split(*rcpts, ",")
	if _, err := report.ParseRecipients(keys); err != nil {
		return hint{fmt.Errorf("bad -recipient: %w", err), "give the age1pq1… line `hotline keygen` prints"}
	}
	text, err := fillExample(keys, *keyFile)
	if err != nil {
		return err
	}
	for _, p := range []string{*out, *keyFile} {
		if _, err := os.Lstat(p); err == nil {
			return hint{fmt.Errorf("%s exists", p), "init never overwrites a file: choose another name with -o or -signing-key"}
		}
	}
	body, public, err := signingKey()
	if err != nil {
		return err
	}
	if err := writeNewFile(*keyFile, "key file", body); err != nil {
		return err
	}
	if err := writeNewFile(*out, "configuration", string(text)); err != nil {
		os.Remove(*keyFile)
		return err
	}
	cfg, err := config.Load(*out)
	if err == nil {
		_, err = endpoints(cfg)
	}
	if err != nil {
		return fmt.Errorf("the written configuration does not pass check-config: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", *out, *keyFile)
	fmt.Fprintf(stdout, "the hotline's intake verifies deliveries with:\n  %s\n", public)
	fmt.Fprintf(stdout, "next: edit %s (public_url, the hotline's intake_url, your sites), then: relay check-config %s\n", *out, *out)
	return nil
}

// fillExample returns the example configuration with keys as the
// recipients and keyFile as the signing key file.
func fillExample(keys []string, keyFile string) ([]byte, error) {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = strconv.Quote(strings.TrimSpace(k))
	}
	text := config.Example
	for _, r := range []struct{ old, new string }{
		{`recipients = ["` + config.ExampleRecipient + `"]`, "recipients = [" + strings.Join(quoted, ", ") + "]"},
		{`signing_key_file = "relay-signing.key"`, "signing_key_file = " + strconv.Quote(keyFile)},
	} {
		if bytes.Count(text, []byte(r.old)) != 1 {
			return nil, fmt.Errorf("the built-in example lacks %s", r.old)
		}
		text = bytes.Replace(text, []byte(r.old), []byte(r.new), 1)
	}
	return text, nil
}

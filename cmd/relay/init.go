package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/reportline/reportline/internal/newfile"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
	"github.com/reportline/reportline/web/assets"
)

// initConfig writes a working configuration to start from: the example
// (examples/relay.example.toml) with the hotline's signed key statement
// (or, for a first trial, its bare recipients) in place of its
// placeholder, and a fresh delivery signing key beside it. It checks the
// result as check-config does, and prints the key the intake needs.
func initConfig(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	out := fs.String("o", "relay.toml", "configuration file to write (must not exist)")
	keyFile := fs.String("signing-key", "relay-signing.key", "delivery signing key file to write (must not exist), beside the configuration unless a path is given")
	rcpts := fs.String("recipient", "", "the hotline's age public keys, `age1pq1…` as hotline keygen prints them; several separated by commas (the form refuses to seal to keys the hotline did not sign: prefer -statement)")
	stmtFile := fs.String("statement", "", "the hotline's signed key statement (`FILE`, as hotline sign wrote it); with -statement-key")
	stmtKey := fs.String("statement-key", "", "the hotline's `hlvk_…` verification key, as hotline keygen -sign prints it")
	hotlineID := fs.String("hotline", "", "the hotline's id, as its intake's -hotline gives it (default: the id the statement names, or "+strconv.Quote(exampleHotline)+" with -recipient)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	keySet := false
	fs.Visit(func(f *flag.Flag) { keySet = keySet || f.Name == "signing-key" })
	if !keySet {
		*keyFile = filepath.Join(filepath.Dir(*out), *keyFile)
	}
	var keys recipientsLine
	switch {
	case *stmtFile != "" && *rcpts != "":
		return hint{errors.New("give -statement or -recipient, not both"), "the statement already names the hotline's recipients"}
	case *stmtFile != "":
		if *stmtKey == "" {
			return hint{errors.New("-statement needs -statement-key"), "the hotline gives you the hlvk_… key `hotline keygen -sign` printed"}
		}
		b, err := os.ReadFile(*stmtFile)
		if err != nil {
			return fmt.Errorf("failed to read the statement: %w", err)
		}
		if strings.Contains(string(b), "'''") {
			return fmt.Errorf("%s is not a key statement: it contains '''", *stmtFile)
		}
		st, err := statement.Parse(b)
		if err != nil {
			return hint{fmt.Errorf("failed to read the statement %s: %w", *stmtFile, err), "give the file `hotline sign` wrote, unchanged"}
		}
		switch {
		case *hotlineID == "":
			*hotlineID = st.Hotline
		case *hotlineID != st.Hotline:
			return hint{fmt.Errorf("the statement is for hotline %q, not %q", st.Hotline, *hotlineID),
				"leave out -hotline, or have the hotline sign a statement with `hotline sign -hotline " + *hotlineID + "`"}
		}
		keys = recipientsLine{statement: strings.TrimSpace(string(b)), statementKey: strings.TrimSpace(*stmtKey)}
	case *rcpts != "":
		list := strings.Split(*rcpts, ",")
		if _, err := report.ParseRecipients(list); err != nil {
			return hint{fmt.Errorf("bad -recipient: %w", err), "give the age1pq1… line `hotline keygen` prints"}
		}
		keys = recipientsLine{recipients: list}
		if *hotlineID == "" {
			*hotlineID = exampleHotline
		}
	default:
		return hint{errors.New("usage: relay init -statement FILE -statement-key hlvk_… [-o relay.toml] [-signing-key relay-signing.key]"),
			"the hotline signs its keys with `hotline sign` and gives you the statement file and its hlvk_… key (docs/key-statement.md)"}
	}
	// The configuration names the key file from its own folder, as the
	// relay reads every path in it.
	keyRef, err := filepath.Rel(filepath.Dir(absPath(*out)), absPath(*keyFile))
	if err != nil {
		keyRef = absPath(*keyFile)
	}
	// It names the build in the working directory, the checkout: as
	// written in the example when the file goes there, else by its full
	// path, since a relative one would be taken from the file's folder.
	assetsRef := exampleAssets
	if filepath.Dir(absPath(*out)) != absPath(".") {
		assetsRef = absPath(exampleAssets)
	}
	text, err := fillExample(keys, *hotlineID, keyRef, assetsRef)
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
	if err := newfile.Write(*keyFile, "key file", "keys and configurations are never overwritten", 0o600, body); err != nil {
		return err
	}
	if err := newfile.Write(*out, "configuration", "keys and configurations are never overwritten", 0o600, string(text)); err != nil {
		os.Remove(*keyFile)
		return err
	}
	cfg, err := config.Load(*out)
	if err == nil {
		_, err = endpoints(cfg)
	}
	if err != nil {
		// Nothing half-made stays behind: both files are this run's own.
		os.Remove(*out)
		os.Remove(*keyFile)
		return fmt.Errorf("the configuration init would write does not pass check-config, so nothing was written: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", *out, *keyFile)
	if err := assets.CheckBuilt(cfg.Relay.Assets); err != nil {
		fmt.Fprintf(stdout, "note: %s holds no built module yet: run make build in the checkout before relay check-config\n", cfg.Relay.Assets)
	}
	fmt.Fprintf(stdout, "the hotline's intake verifies deliveries with:\n  %s\n", public)
	fmt.Fprintf(stdout, "start it with: hotline intake -hotline %s -verify-key %s …\n", *hotlineID, public)
	fmt.Fprintf(stdout, "next: edit %s (public_url, the hotline's intake_url, your sites), then: relay check-config %s\n", *out, *out)
	return nil
}

// recipientsLine is what init puts in place of the example's
// placeholder: a signed statement and its key, or bare recipients.
type recipientsLine struct {
	statement, statementKey string
	recipients              []string
}

func (r recipientsLine) String() string {
	if r.statement != "" {
		return "statement = '''\n" + r.statement + "\n'''\nstatement_key = " + strconv.Quote(r.statementKey)
	}
	quoted := make([]string, len(r.recipients))
	for i, k := range r.recipients {
		quoted[i] = strconv.Quote(strings.TrimSpace(k))
	}
	return "recipients = [" + strings.Join(quoted, ", ") + "]"
}

// exampleHotline is the hotline id of the example configuration.
const exampleHotline = "demo-hotline"

// absPath returns p made absolute, or p if the working directory is gone.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// exampleAssets is where the example configuration, and make build, put
// the built module: build/assets of the checkout.
const exampleAssets = "build/assets"

// fillExample returns the example configuration with keys in place of
// the placeholder recipients, hotline as the hotline's id, keyFile as
// the signing key file and assetsDir as the built module's folder.
func fillExample(keys recipientsLine, hotline, keyFile, assetsDir string) ([]byte, error) {
	text := config.Example
	for _, r := range []struct{ old, new string }{
		{`assets = "` + exampleAssets + `"`, "assets = " + strconv.Quote(assetsDir)},
		{`recipients = ["` + config.ExampleRecipient + `"]`, keys.String()},
		{`signing_key_file = "relay-signing.key"`, "signing_key_file = " + strconv.Quote(keyFile)},
		{`id = "` + exampleHotline + `"`, "id = " + strconv.Quote(hotline)},
		{`hotline = "` + exampleHotline + `"`, "hotline = " + strconv.Quote(hotline)},
	} {
		if bytes.Count(text, []byte(r.old)) != 1 {
			return nil, fmt.Errorf("the built-in example lacks %s", r.old)
		}
		text = bytes.Replace(text, []byte(r.old), []byte(r.new), 1)
	}
	return text, nil
}

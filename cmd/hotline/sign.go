package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/internal/newfile"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// keygenSign makes the hotline's statement signing key, to keep offline,
// and prints the verification key partners and relays are given.
func keygenSign(stdout io.Writer, out string) error {
	k, err := statement.GenerateKey()
	if err != nil {
		return err
	}
	body := fmt.Sprintf("# hotline key statement signing key, created %s\n"+
		"# verification key: %s\n"+
		"# Keep this file offline: whoever holds it decides which keys reports are sealed to.\n%s\n",
		time.Now().UTC().Format(time.RFC3339), k.VerificationKey(), k.Secret())
	if err := newfile.Write(out, "signing key file", "keygen never overwrites a key", 0o600, body); err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.VerificationKey())
	return nil
}

// sign writes a key statement for the hotline's recipients, signed with
// its offline key.
func sign(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	keyFile := fs.String("key", "", "the signing key `FILE` made by hotline keygen -sign")
	hotline := fs.String("hotline", os.Getenv("HOTLINE_ID"), "this hotline's id, as in the relay's [[hotline]] id (env HOTLINE_ID)")
	serial := fs.Uint64("serial", 0, "the statement's serial: higher than every earlier statement's")
	from := fs.String("valid-from", "", "start of the validity period, like 2026-01-31T00:00:00Z (default now)")
	validFor := fs.Duration("valid-for", 90*24*time.Hour, "length of the validity period")
	out := fs.String("o", "", "file to write the statement to (default standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	usage := "usage: hotline sign -key FILE -hotline ID -serial N [-valid-from TIME] [-valid-for DURATION] [-o FILE] RECIPIENT..."
	if *keyFile == "" || *hotline == "" || fs.NArg() == 0 {
		return errors.New(usage)
	}
	if *serial == 0 {
		return hint{errors.New("-serial is required"), "give 1 for the first statement, and a higher number for each new one: forms and relays refuse a lower serial than one they saw"}
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return hint{fmt.Errorf("failed to read the signing key: %w", err), openHint(*keyFile, err, "hotline keygen -sign -o "+*keyFile)}
	}
	k, err := statement.ParseSigningKey(b)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", *keyFile, err)
	}
	if _, err := report.ParseRecipients(fs.Args()); err != nil {
		return hint{err, "give the age public keys `hotline keygen` printed, all of one kind"}
	}
	start := time.Now().UTC().Truncate(time.Second)
	if *from != "" {
		if start, err = time.Parse(time.RFC3339, *from); err != nil {
			return fmt.Errorf("-valid-from: %q is not a time like 2026-01-31T00:00:00Z", *from)
		}
		start = start.UTC()
	}
	if *validFor < time.Minute {
		return errors.New("-valid-for: give a period of at least a minute, like 2160h")
	}
	text, err := k.Sign(&statement.Statement{Hotline: *hotline, Serial: *serial, ValidFrom: start,
		ValidUntil: start.Add(*validFor).Truncate(time.Second), Recipients: fs.Args()})
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(text)
		return err
	}
	if err := newfile.Write(*out, "statement file", "sign never overwrites a statement", 0o644, string(text)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (serial %d, valid until %s): give it, with %s, to the relay's operator (relay init -statement, or the hotline's statement in relay.toml)\n",
		*out, *serial, start.Add(*validFor).Truncate(time.Second).Format(time.RFC3339), k.VerificationKey())
	return nil
}

// expectedRecipients reads the hotline's key statements, if given (several,
// separated by commas, during a rotation), and returns the recipients of
// each: every delivered envelope must be sealed to one statement's.
func (o intakeOptions) expectedRecipients() ([]*report.Recipients, error) {
	if o.statement == "" {
		return nil, nil
	}
	if o.statementKey == "" {
		return nil, hint{errors.New("-statement needs -statement-key"), "give the hlvk_… key `hotline keygen -sign` printed"}
	}
	if err := statement.CheckVerificationKey(o.statementKey); err != nil {
		return nil, fmt.Errorf("-statement-key: %w", err)
	}
	var all []*report.Recipients
	for _, path := range strings.Split(o.statement, ",") {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("-statement: %w", err)
		}
		st, err := statement.Parse(b)
		if err == nil {
			err = st.Verify(o.statementKey)
		}
		if err == nil && st.Hotline != o.hotline {
			err = fmt.Errorf("%w: it names hotline %q, not %q", statement.ErrHotline, st.Hotline, o.hotline)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rc, err := report.ParseRecipients(st.Recipients)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		all = append(all, rc)
	}
	return all, nil
}

// printAlarm tells whoever watches the intake's output, in words, that a
// delivery was refused with an alarm.
func printAlarm(w io.Writer, a *intake.Alarm) {
	fmt.Fprintf(w, "hotline: ALARM: report %s refused (%s): %s\nhotline: ALARM: %s\n", a.Report, a.Kind, a.Reason, a.Hint())
}

package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

// validateKeys checks a hotline's signed key statement, or its bare
// recipients where it has none, and parses the recipients reports are
// sealed to.
func (h *Hotline) validateKeys(key string, now time.Time, bad func(key, format string, args ...any)) {
	if h.Statement == "" {
		// Without a statement, statement_key still checks the hotline's
		// replies to reporters (docs/follow-up.md).
		if h.StatementKey != "" {
			if err := statement.CheckVerificationKey(h.StatementKey); err != nil {
				bad(key+".statement_key", "%v", err)
			}
		}
		h.validateRecipients(key, bad)
		return
	}
	if len(h.Recipients) > 0 {
		bad(key+".recipients", "remove it: the hotline's signed statement names the recipients")
		return
	}
	if h.StatementKey == "" {
		bad(key+".statement_key", "missing: give the hotline's hlvk_… verification key, which `hotline keygen -sign` printed")
		return
	}
	if err := statement.CheckVerificationKey(h.StatementKey); err != nil {
		bad(key+".statement_key", "%v", err)
		return
	}
	st, err := statement.Parse([]byte(normalizeStatement(h.Statement)))
	if err != nil {
		bad(key+".statement", "%v: paste the hotline's statement file whole, between ''' and '''", err)
		return
	}
	if err := st.Verify(h.StatementKey); err != nil {
		bad(key+".statement", "%v: the statement was changed after the hotline signed it, or statement_key is not the hotline's", err)
		return
	}
	if err := st.Check(h.ID, 0, now, 0); err != nil {
		var hint string
		switch {
		case errors.Is(err, statement.ErrExpired):
			hint = "ask the hotline for a new statement (`hotline sign`)"
		case errors.Is(err, statement.ErrNotYetValid):
			hint = "keep the statement in force until then, or check this machine's clock"
		default:
			hint = "this is another hotline's statement"
		}
		bad(key+".statement", "%v: %s", err, hint)
		return
	}
	rc, err := report.ParseRecipients(st.Recipients)
	if err != nil {
		bad(key+".statement", "the signed recipients are not usable: %v", err)
		return
	}
	h.statement, h.recipients = st, rc
}

// validateRecipients checks bare recipients, the form of a hotline that
// has no signed statement yet.
func (h *Hotline) validateRecipients(key string, bad func(key, format string, args ...any)) {
	if len(h.Recipients) == 0 {
		bad(key+".statement", "missing: paste the key statement the hotline signed with `hotline sign` (docs/key-statement.md)")
		return
	}
	rc, err := report.ParseRecipients(h.Recipients)
	switch {
	case err != nil && slices.ContainsFunc(h.Recipients, placeholder):
		bad(key+".recipients", "the example's placeholder is still there: put the hotline's age public key in its place, "+
			"the age1pq1… line `hotline keygen -o identity.txt` prints (or run `relay init`)")
	case err != nil:
		bad(key+".recipients", "%v: give the hotline's age public keys as `hotline keygen` prints them", err)
	}
	h.recipients = rc
}

// normalizeStatement returns a statement as pasted into TOML with the
// newline after its signature that a TOML multi-line string may lose.
func normalizeStatement(s string) string {
	return strings.TrimRight(s, " \t\n") + "\n"
}

// KeyStatement returns the hotline's verified key statement, or nil if it
// has only bare recipients, from which the report form cannot seal.
func (h *Hotline) KeyStatement() *statement.Statement { return h.statement }

// StatementText returns the statement as the frame hands it to the form.
func (h *Hotline) StatementText() string {
	if h.statement == nil {
		return ""
	}
	return normalizeStatement(h.Statement)
}

// CheckRollback returns an error if c would put in force an older key
// statement than old has for a hotline: a lower serial, or another
// statement with the same serial. A reload refuses such a configuration.
func (c *Config) CheckRollback(old *Config) error {
	var errs []error
	for i := range c.Hotlines {
		h := &c.Hotlines[i]
		o := old.Hotline(h.ID)
		if o == nil || o.statement == nil {
			continue
		}
		key := fmt.Sprintf("hotline[%d].statement", i)
		switch {
		case h.statement == nil:
			errs = append(errs, fmt.Errorf("config: %s: missing, where the configuration in force has serial %d: %w", key, o.statement.Serial, statement.ErrRollback))
		case h.statement.Serial < o.statement.Serial:
			errs = append(errs, fmt.Errorf("config: %s: serial %d is lower than %d, in force: %w; a hotline replaces a statement with a higher serial only",
				key, h.statement.Serial, o.statement.Serial, statement.ErrRollback))
		case h.statement.Serial == o.statement.Serial && h.StatementText() != o.StatementText():
			errs = append(errs, fmt.Errorf("config: %s: another statement with the same serial %d as the one in force: %w", key, h.statement.Serial, statement.ErrRollback))
		}
	}
	return errors.Join(errs...)
}

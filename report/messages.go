package report

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

//go:embed messages/*.json
var catalogFS embed.FS

// Catalog is the messages of one language, by key.
type Catalog map[string]string

// DefaultLocale is the language used when no other fits.
const DefaultLocale = "en"

// LoadCatalog returns the messages for a locale ("en", "de", …).
func LoadCatalog(locale string) (Catalog, error) {
	b, err := catalogFS.ReadFile("messages/" + locale + ".json")
	if err != nil {
		return nil, fmt.Errorf("no messages for locale %q", locale)
	}
	var c Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("failed to parse messages for %q: %w", locale, err)
	}
	return c, nil
}

// T returns the message for key filled in by [Format]. A missing key
// returns the key itself, so a gap shows instead of hiding.
func (c Catalog) T(key string, args ...string) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	return Format(s, args...)
}

// Bidirectional isolates (Unicode UAX #9): the text between them is laid
// out on its own, in the direction of its first strong character, and
// does not reorder the sentence around it.
const (
	isolateStart = "\u2068" // FIRST STRONG ISOLATE
	isolateEnd   = "\u2069" // POP DIRECTIONAL ISOLATE
)

// Format fills in a message: each {name} placeholder is replaced by the
// value given after that name in args (name, value pairs). Every value,
// and every web address written in the message itself, is wrapped in
// bidirectional isolates, so that in a right-to-left sentence "+49 110"
// and "https://" keep their order whatever the translator typed. This is
// the one place that does it: the relay's page and the module both fill
// messages in here.
func Format(msg string, args ...string) string {
	msg = isolateAddresses(msg)
	for i := 0; i+1 < len(args); i += 2 {
		msg = strings.ReplaceAll(msg, "{"+args[i]+"}", isolateStart+args[i+1]+isolateEnd)
	}
	return msg
}

// isolateAddresses wraps each http:// or https:// address in msg, up to
// the next space and without the sentence's closing punctuation.
func isolateAddresses(msg string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, "http")
		if i < 0 {
			break
		}
		rest := msg[i:]
		if !strings.HasPrefix(rest, "https://") && !strings.HasPrefix(rest, "http://") {
			b.WriteString(msg[:i+4])
			msg = msg[i+4:]
			continue
		}
		n := strings.IndexAny(rest, " \t\n")
		if n < 0 {
			n = len(rest)
		}
		n = len(strings.TrimRight(rest[:n], ".,;:!?)»")) // stops at "//" at the latest
		b.WriteString(msg[:i] + isolateStart + rest[:n] + isolateEnd)
		msg = rest[n:]
	}
	b.WriteString(msg)
	return b.String()
}

// Locales lists the locales that have a message catalog, sorted.
func Locales() []string {
	entries, _ := catalogFS.ReadDir("messages")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	return out
}

// RTL reports whether a locale is written right to left.
func RTL(locale string) bool {
	switch locale {
	case "ar", "fa", "he", "ur":
		return true
	}
	return false
}

// UIKeys are the messages the report frame shows besides those named by
// the form's fields and the error codes.
var UIKeys = []string{
	"lang.name", "lang.label",
	"form.title", "form.intro", "form.choose", "form.optional", "form.submit", "form.sending",
	"form.loading", "form.failed", "form.close", "form.exit", "form.counter",
	"guidance.title", "guidance.no_download", "guidance.no_investigate", "guidance.unsure",
	"guidance.once", "guidance.emergency",
	"field.locations.add", "field.locations.remove", "field.locations.row",
	"under18.toggle", "under18.text", "under18.helpline", "under18.own_images", "under18.report_remove",
	"contact.toggle", "contact.statement",
	"error.summary", "error.send", "error.send_detail", "error.already_reported",
	"receipt.title", "receipt.reference", "receipt.date", "receipt.next", "receipt.another",
	"nojs.text",
	// The follow-up channel (docs/follow-up.md).
	"followup.have_code", "followup.optin", "followup.optin_hint", "followup.code_title", "followup.code_text",
	"followup.copy", "followup.copied", "followup.copy_failed", "followup.confirm_label", "followup.confirm",
	"followup.confirm_wrong", "followup.confirmed", "followup.return_title", "followup.return_text",
	"followup.code_label", "followup.open", "followup.back", "followup.checking", "followup.fetch_failed",
	"followup.code_group", "followup.code_wrong", "followup.code_length", "followup.none", "followup.once",
	"followup.refused", "followup.kind.question", "followup.kind.acknowledgement", "followup.kind.outcome",
	"followup.kind.closed", "followup.answer_label", "followup.answer_send", "followup.answer_sent",
}

// ErrorCodes are every [FieldError] code; each has a message "error.CODE".
var ErrorCodes = []string{
	CodeRequired, CodeTooLong, CodeTooMany, CodeInvalidURL, CodeDuplicate, CodeUnknownOption,
	CodeInvalidDate, CodeFutureDate, CodeInvalidEmail, CodeInvalid,
}

// MessageKeys returns every message key the default form and the frame
// use: each catalog must have exactly these.
func MessageKeys() []string {
	keys := slices.Clone(UIKeys)
	for _, f := range DefaultForm().Fields {
		if f.Kind == KindNote {
			keys = append(keys, f.Texts...)
			continue
		}
		keys = append(keys, f.LabelKey())
		if f.Hint {
			keys = append(keys, f.HintKey())
		}
		if f.Kind == KindCountry {
			continue
		}
		for _, o := range f.Options {
			keys = append(keys, f.OptionKey(o))
		}
	}
	for _, c := range ErrorCodes {
		keys = append(keys, "error."+c)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

package report

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Codes of [FieldError]. Each names a message ("error.CODE") the form shows
// in the reporter's language.
const (
	CodeRequired      = "required"
	CodeTooLong       = "too_long"
	CodeTooMany       = "too_many"
	CodeInvalidURL    = "invalid_url"
	CodeDuplicate     = "duplicate"
	CodeUnknownOption = "unknown_option"
	CodeInvalidDate   = "invalid_date"
	CodeFutureDate    = "future_date"
	CodeInvalidEmail  = "invalid_email"
	CodeInvalid       = "invalid"
)

// FieldError is one problem with one field. Index is the position within a
// list field (locations), or -1.
type FieldError struct {
	Field string `json:"field"`
	Index int    `json:"index"`
	Code  string `json:"code"`
}

func (e FieldError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("%s[%d]: %s", e.Field, e.Index, e.Code)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Code)
}

// ValidationError lists every problem found in a report, so the form can
// show them all at once.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Error()
	}
	return "invalid report: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrMalformed) hold for validation errors too.
func (e *ValidationError) Is(target error) bool { return target == ErrMalformed }

type checker struct{ errs []FieldError }

func (c *checker) add(field string, index int, code string) {
	c.errs = append(c.errs, FieldError{Field: field, Index: index, Code: code})
}

// Validate checks r against form f at time now and returns a
// *ValidationError listing every problem, or nil.
func Validate(f *Form, r *Report, now time.Time) error {
	c := &checker{}
	if r.Version != Version {
		c.add("version", -1, CodeInvalid)
	}
	if u, err := uuid.Parse(r.ID); err != nil || u.Version() != 4 || len(r.ID) != 36 {
		c.add("id", -1, CodeInvalid)
	}
	if r.Hotline == "" || len(r.Hotline) > MaxIDLen {
		c.add("hotline", -1, CodeInvalid)
	}
	if r.Site == "" || len(r.Site) > MaxIDLen {
		c.add("site", -1, CodeInvalid)
	}
	if r.Created.IsZero() || r.Created.After(now.Add(24*time.Hour)) {
		c.add("created", -1, CodeInvalid)
	}
	if r.Locale == "" || len(r.Locale) > 35 {
		c.add("locale", -1, CodeInvalid)
	}
	if r.InReplyTo != "" {
		c.answer(f, r)
	} else {
		for _, fd := range f.Fields {
			if fd.ShowWhen != nil && !fd.ShowWhen.Holds(fieldValue(fd.ShowWhen.Field, r)) {
				if fieldValue(fd.Name, r) != "" {
					c.add(fd.Name, -1, CodeInvalid)
				}
				continue
			}
			c.field(&fd, r, now)
		}
	}
	c.followUp(r.FollowUp)
	if len(c.errs) > 0 {
		return &ValidationError{Errors: c.errs}
	}
	return nil
}

func (c *checker) field(fd *Field, r *Report, now time.Time) {
	switch fd.Kind {
	case KindLocations:
		c.locations(fd, r.Locations)
		return
	}
	v := fieldValue(fd.Name, r)
	if v == "" {
		if fd.Required {
			c.add(fd.Name, -1, CodeRequired)
		}
		return
	}
	if fd.MaxLen > 0 && utf8.RuneCountInString(v) > fd.MaxLen {
		c.add(fd.Name, -1, CodeTooLong)
		return
	}
	switch fd.Kind {
	case KindChoice, KindYesNo, KindCountry:
		if !slices.Contains(fd.Options, v) {
			c.add(fd.Name, -1, CodeUnknownOption)
		}
	case KindDate:
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			c.add(fd.Name, -1, CodeInvalidDate)
		} else if d.After(now.Add(14 * time.Hour)) { // the earliest time zone
			c.add(fd.Name, -1, CodeFutureDate)
		}
	case KindEmail:
		if !plausibleEmail(v) {
			c.add(fd.Name, -1, CodeInvalidEmail)
		}
	}
}

func fieldValue(name string, r *Report) string {
	if p := r.text(name); p != nil {
		return *p
	}
	switch name {
	case "reporter_under_18":
		return yes(r.ReporterUnder18)
	}
	if r.Contact == nil {
		return ""
	}
	switch name {
	case "contact_name":
		return r.Contact.Name
	case "contact_email":
		return r.Contact.Email
	case "contact_phone":
		return r.Contact.Phone
	case "contact_wants_outcome":
		return yes(r.Contact.WantsOutcome)
	}
	return ""
}

// answerNames are the report's yes-or-no answers, in the order of its
// JSON.
var answerNames = []string{"urgent", "ai_made", "live_now", "threatened", "still_in_contact",
	"asked_to_meet", "moved_app", "images_exchanged", "reporter_in_images"}

// Answer is a reporter's answer to one of the form's yes-or-no questions.
type Answer struct{ Field, Value string }

// Answers returns the answers the reporter gave, in the order of the
// report's JSON.
func (r *Report) Answers() []Answer {
	var out []Answer
	for _, name := range answerNames {
		if v := *r.text(name); v != "" {
			out = append(out, Answer{name, v})
		}
	}
	return out
}

// text returns the report's string member for a field of the main form,
// or nil.
func (r *Report) text(name string) *string {
	switch name {
	case "seen_on":
		return &r.SeenOn
	case "content":
		return &r.Content
	case "category":
		return &r.Category
	case "seen_date":
		return &r.SeenDate
	case "description":
		return &r.Description
	case "details":
		return &r.Details
	case "reporter_country":
		return &r.ReporterCountry
	case "incident_country":
		return &r.IncidentCountry
	case "urgent":
		return &r.Urgent
	case "ai_made":
		return &r.AIMade
	case "live_now":
		return &r.LiveNow
	case "threatened":
		return &r.Threatened
	case "still_in_contact":
		return &r.StillInContact
	case "asked_to_meet":
		return &r.AskedToMeet
	case "moved_app":
		return &r.MovedApp
	case "images_exchanged":
		return &r.ImagesExchanged
	case "reporter_in_images":
		return &r.ReporterInImages
	}
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func (c *checker) locations(fd *Field, locs []Location) {
	if len(locs) == 0 {
		if fd.Required {
			c.add(fd.Name, -1, CodeRequired)
		}
		return
	}
	if len(locs) > MaxLocations {
		c.add(fd.Name, -1, CodeTooMany)
		return
	}
	seen := make(map[string]bool, len(locs))
	for i, l := range locs {
		want, code := ClassifyLocation(l.Value)
		switch {
		case code != "":
			c.add(fd.Name, i, code)
		case want != l:
			c.add(fd.Name, i, CodeInvalid)
		case seen[NormalizeLocation(l.Value)]:
			c.add(fd.Name, i, CodeDuplicate)
		}
		seen[NormalizeLocation(l.Value)] = true
	}
}

// ClassifyLocation trims what a reporter typed as a location and says what
// kind it is. A value that starts like a web address must be one
// (code [CodeInvalidURL] otherwise); anything else is accepted as a
// free-text location. An empty value has code [CodeRequired].
func ClassifyLocation(typed string) (Location, string) {
	v := strings.TrimSpace(typed)
	switch {
	case v == "":
		return Location{}, CodeRequired
	case utf8.RuneCountInString(v) > MaxLocationLen:
		return Location{}, CodeTooLong
	case strings.ContainsAny(v, "\x00\r\n"):
		return Location{}, CodeInvalid
	}
	lower := strings.ToLower(v)
	if strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.Hostname() == "" || strings.ContainsAny(u.Host, " \t") {
			return Location{}, CodeInvalidURL
		}
		kind := "url"
		if strings.HasSuffix(strings.ToLower(u.Hostname()), ".onion") {
			kind = "onion"
		}
		return Location{Kind: kind, Value: v}, ""
	}
	if host, _, _ := strings.Cut(lower, "/"); strings.HasSuffix(host, ".onion") && !strings.Contains(host, " ") {
		return Location{Kind: "onion", Value: v}, ""
	}
	return Location{Kind: "other", Value: v}, ""
}

// NormalizeLocation returns the form of a location used to spot the same
// address typed twice: trimmed, lower-case scheme and host, no trailing
// slash, no fragment.
func NormalizeLocation(typed string) string {
	v := strings.TrimSpace(typed)
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return strings.ToLower(v)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.RawFragment = ""
	s := u.String()
	return strings.TrimSuffix(s, "/")
}

// plausibleEmail reports whether s looks like a bare address, local@domain
// with a dot in the domain and no spaces or brackets. The hotline is the
// one to use it; this only catches slips of the keyboard.
func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.ContainsAny(s, " \t<>()[],;:\"") && !strings.Contains(domain, "@")
}

// answer checks a reporter's answer to a hotline's question: the id it
// answers and a description, and nothing else of a report's fields.
func (c *checker) answer(f *Form, r *Report) {
	if u, err := uuid.Parse(r.InReplyTo); err != nil || u.String() != r.InReplyTo {
		c.add("in_reply_to", -1, CodeInvalid)
	}
	for _, fd := range f.Fields {
		switch {
		case fd.Name == "description":
			fd.Required = true
			c.field(&fd, r, time.Time{})
		case fd.Kind == KindLocations && len(r.Locations) > 0,
			fd.Kind != KindLocations && fieldValue(fd.Name, r) != "":
			c.add(fd.Name, -1, CodeInvalid)
		}
	}
}

// followUp checks the form of a follow-up request; the hotline's reply
// tools check the key itself.
func (c *checker) followUp(fu *FollowUp) {
	if fu == nil {
		return
	}
	hex := func(s string) bool {
		return len(s) == 32 && strings.Trim(s, "0123456789abcdef") == ""
	}
	b64url := func(s string) bool {
		return len(s) == 43 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
	}
	// reply_to: a 1,216-byte key in standard base64, 1,624 characters.
	if !hex(fu.Mailbox) || !b64url(fu.Check) || len(fu.ReplyTo) != 1624 ||
		strings.Trim(strings.TrimSuffix(fu.ReplyTo, "=="), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != "" {
		c.add("follow_up", -1, CodeInvalid)
	}
}

package report

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Marshal encodes r as the JSON of format v1, without padding. It writes
// the same bytes as encoding/json would (a test holds it to that), by hand,
// so that the browser module does not carry encoding/json: about 80 KB of
// download saved for every reporter.
func Marshal(r *Report) ([]byte, error) {
	b := make([]byte, 0, 1024)
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	if r.Minor != 0 {
		b = append(b, `,"minor":`...)
		b = strconv.AppendInt(b, int64(r.Minor), 10)
	}
	b = field(b, "id", r.ID, false)
	b = field(b, "hotline", r.Hotline, false)
	b = field(b, "site", r.Site, false)
	b = append(b, `,"created":`...)
	b = appendString(b, r.Created.Format(time.RFC3339Nano))
	b = field(b, "locale", r.Locale, false)
	b = append(b, `,"locations":`...)
	if r.Locations == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range r.Locations {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"kind":`...)
			b = appendString(b, l.Kind)
			b = append(b, `,"value":`...)
			b = appendString(b, l.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = field(b, "seen_on", r.SeenOn, false)
	b = field(b, "content", r.Content, false)
	b = field(b, "category", r.Category, false)
	for _, name := range answerNames {
		b = field(b, name, *r.text(name), true)
	}
	b = field(b, "seen_date", r.SeenDate, true)
	b = field(b, "description", r.Description, true)
	b = field(b, "details", r.Details, true)
	b = field(b, "reporter_country", r.ReporterCountry, true)
	b = field(b, "incident_country", r.IncidentCountry, true)
	if r.ReporterUnder18 {
		b = append(b, `,"reporter_under_18":true`...)
	}
	if c := r.Contact; c != nil {
		b = append(b, `,"contact":{`...)
		n := len(b)
		b = field(b, "name", c.Name, true)
		b = field(b, "email", c.Email, true)
		b = field(b, "phone", c.Phone, true)
		if c.WantsOutcome {
			b = append(b, `,"wants_outcome":true`...)
		}
		if len(b) > n {
			b = append(b[:n], b[n+1:]...) // the first field's comma
		}
		b = append(b, '}')
	}
	if f := r.FollowUp; f != nil {
		b = append(b, `,"follow_up":{`...)
		n := len(b)
		b = field(b, "mailbox", f.Mailbox, false)
		b = append(b[:n], b[n+1:]...) // the first field's comma
		b = field(b, "check", f.Check, false)
		b = field(b, "reply_to", f.ReplyTo, false)
		b = append(b, '}')
	}
	b = field(b, "in_reply_to", r.InReplyTo, true)
	return append(b, '}'), nil
}

func field(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML-safe, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// AppendJSONString appends s as a JSON string, quoted and escaped as
// encoding/json writes it, for a program that writes a report's
// neighbours by hand.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

package report

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
)

// parseCanonical decodes a report laid out as Marshal writes it: its
// members in Marshal's order (any of them may be missing), no white space
// inside, strings without invalid UTF-8 and without escaped surrogates,
// then only white space (the padding). Its result is what encoding/json
// decodes from the same bytes (FuzzParseCanonical holds it to that);
// anything else reports false and is left to encoding/json, which also
// words every refusal. encoding/json reads a padded report a token at a
// time, so that the padding alone cost it more than this takes for the
// whole report.
func parseCanonical(b []byte) (*Report, bool) {
	p := parser{b: b, ok: true}
	r := &Report{}
	p.object(reportKeys, func(k int) {
		switch reportKeys[k] {
		case "version":
			r.Version = p.int()
		case "minor":
			r.Minor = p.int()
		case "created":
			r.Created = p.time()
		case "locations":
			r.Locations = p.locations()
		case "reporter_under_18":
			r.ReporterUnder18 = p.true()
		case "contact":
			r.Contact = p.contact()
		case "follow_up":
			r.FollowUp = p.followUp()
		default:
			*stringMember(r, reportKeys[k]) = p.str()
		}
	})
	if !p.ok || !onlySpace(p.b) {
		return nil, false
	}
	return r, true
}

// reportKeys are a report's members in the order Marshal writes them.
var reportKeys = []string{"version", "minor", "id", "hotline", "site", "created", "locale", "locations",
	"seen_on", "content", "category", "urgent", "ai_made", "live_now", "threatened", "still_in_contact",
	"asked_to_meet", "moved_app", "images_exchanged", "reporter_in_images", "seen_date", "description",
	"details", "reporter_country", "incident_country", "reporter_under_18", "contact", "follow_up", "in_reply_to"}

// stringMember returns the report's string member of that JSON name. It
// is a function rather than a method of Report, whose methods the browser
// module links.
func stringMember(r *Report, name string) *string {
	switch name {
	case "id":
		return &r.ID
	case "hotline":
		return &r.Hotline
	case "site":
		return &r.Site
	case "locale":
		return &r.Locale
	case "in_reply_to":
		return &r.InReplyTo
	}
	return r.text(name)
}

var (
	locationKeys = []string{"kind", "value"}
	contactKeys  = []string{"name", "email", "phone", "wants_outcome"}
	followUpKeys = []string{"mailbox", "check", "reply_to"}
)

// parser reads a canonical report; ok turns false at the first thing it
// does not expect, and stays so.
type parser struct {
	b  []byte
	ok bool
}

// object reads an object whose members are among keys, in their order,
// each at most once, calling read with each one's index in keys once its
// name and colon are read.
func (p *parser) object(keys []string, read func(k int)) {
	if !p.ok || len(p.b) == 0 || p.b[0] != '{' {
		p.ok = false
		return
	}
	p.b = p.b[1:]
	if len(p.b) > 0 && p.b[0] == '}' {
		p.b = p.b[1:]
		return
	}
	for next := 0; p.ok; {
		k := next
		for k < len(keys) && !p.key(keys[k]) {
			k++
		}
		if k == len(keys) {
			p.ok = false
			return
		}
		read(k)
		next = k + 1
		switch {
		case !p.ok || len(p.b) == 0:
			p.ok = false
		case p.b[0] == '}':
			p.b = p.b[1:]
			return
		case p.b[0] == ',':
			p.b = p.b[1:]
		default:
			p.ok = false
		}
	}
}

// key reads `"name":` if that is what comes next.
func (p *parser) key(name string) bool {
	n := len(name)
	if len(p.b) < n+3 || p.b[0] != '"' || string(p.b[1:1+n]) != name || p.b[1+n] != '"' || p.b[2+n] != ':' {
		return false
	}
	p.b = p.b[n+3:]
	return true
}

// str reads a string as encoding/json decodes it, but for invalid UTF-8
// and escaped surrogates, which it leaves to encoding/json.
func (p *parser) str() string {
	if !p.ok || len(p.b) == 0 || p.b[0] != '"' {
		p.ok = false
		return ""
	}
	i := 1
	for i < len(p.b) && p.b[i] != '"' && p.b[i] != '\\' && p.b[i] >= 0x20 {
		i++
	}
	if i < len(p.b) && p.b[i] == '"' {
		s := p.b[1:i]
		if p.ok = utf8.Valid(s); !p.ok {
			return ""
		}
		p.b = p.b[i+1:]
		return string(s)
	}
	out := make([]byte, 0, 2*i)
	out = append(out, p.b[1:i]...)
	for i < len(p.b) {
		c := p.b[i]
		switch {
		case c == '"':
			// The raw parts must be valid UTF-8; what the escapes add is.
			if p.ok = utf8.Valid(p.b[1:i]); !p.ok {
				return ""
			}
			p.b = p.b[i+1:]
			return string(out)
		case c < 0x20:
			p.ok = false
			return ""
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(p.b) {
			break
		}
		switch e := p.b[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+6 > len(p.b) {
				p.ok = false
				return ""
			}
			v, ok := hex4(p.b[i+2 : i+6])
			if !ok || v >= 0xd800 && v < 0xe000 {
				p.ok = false
				return ""
			}
			out = utf8.AppendRune(out, v)
			i += 6
			continue
		default:
			p.ok = false
			return ""
		}
		i += 2
	}
	p.ok = false
	return ""
}

// hex4 decodes the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	var v rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// int reads a small number without sign, fraction or exponent.
func (p *parser) int() int {
	i := 0
	for i < len(p.b) && i < 10 && p.b[i] >= '0' && p.b[i] <= '9' {
		i++
	}
	if !p.ok || i == 0 || i == 10 || i > 1 && p.b[0] == '0' {
		p.ok = false
		return 0
	}
	n, _ := strconv.Atoi(string(p.b[:i]))
	p.b = p.b[i:]
	return n
}

// true reads true, the only value Marshal writes for a boolean.
func (p *parser) true() bool {
	if p.ok = p.ok && bytes.HasPrefix(p.b, []byte("true")); p.ok {
		p.b = p.b[4:]
	}
	return p.ok
}

// time reads a time as encoding/json does, with time.Time's UnmarshalJSON
// on the quoted string, which must be printable ASCII without escapes.
func (p *parser) time() time.Time {
	var t time.Time
	if !p.ok || len(p.b) == 0 || p.b[0] != '"' {
		p.ok = false
		return t
	}
	for i := 1; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '"':
			p.ok = t.UnmarshalJSON(p.b[:i+1]) == nil
			p.b = p.b[i+1:]
			return t
		case c < 0x20 || c > 0x7e || c == '\\':
			p.ok = false
			return t
		}
	}
	p.ok = false
	return t
}

// locations reads the locations: null, or an array of them.
func (p *parser) locations() []Location {
	if bytes.HasPrefix(p.b, []byte("null")) {
		p.b = p.b[4:]
		return nil
	}
	if !p.ok || len(p.b) == 0 || p.b[0] != '[' {
		p.ok = false
		return nil
	}
	p.b = p.b[1:]
	locs := []Location{}
	if len(p.b) > 0 && p.b[0] == ']' {
		p.b = p.b[1:]
		return locs
	}
	for p.ok {
		var l Location
		p.object(locationKeys, func(k int) {
			if k == 0 {
				l.Kind = p.str()
			} else {
				l.Value = p.str()
			}
		})
		locs = append(locs, l)
		switch {
		case !p.ok || len(p.b) == 0:
			p.ok = false
		case p.b[0] == ']':
			p.b = p.b[1:]
			return locs
		case p.b[0] == ',':
			p.b = p.b[1:]
		default:
			p.ok = false
		}
	}
	return nil
}

// contact reads a contact object.
func (p *parser) contact() *Contact {
	c := &Contact{}
	p.object(contactKeys, func(k int) {
		switch k {
		case 0:
			c.Name = p.str()
		case 1:
			c.Email = p.str()
		case 2:
			c.Phone = p.str()
		case 3:
			c.WantsOutcome = p.true()
		}
	})
	return c
}

// followUp reads a follow-up object.
func (p *parser) followUp() *FollowUp {
	f := &FollowUp{}
	p.object(followUpKeys, func(k int) {
		switch k {
		case 0:
			f.Mailbox = p.str()
		case 1:
			f.Check = p.str()
		case 2:
			f.ReplyTo = p.str()
		}
	})
	return f
}

// onlySpace reports whether b holds only JSON white space: the padding
// is spaces, compared eight at a time.
func onlySpace(b []byte) bool {
	const spaces = 0x2020202020202020
	for len(b) > 0 {
		if len(b) >= 8 && binary.LittleEndian.Uint64(b) == spaces {
			b = b[8:]
			continue
		}
		switch b[0] {
		case ' ', '\n', '\t', '\r':
			b = b[1:]
		default:
			return false
		}
	}
	return true
}

package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the report format version this package writes and reads.
const Version = 1

// Minor is the minor version of format v1 this package writes, and the
// highest it reads. A minor version only adds optional members, so a
// reader of 1.1 reads 1.0 reports too; a report of a later minor version
// is refused, since it may carry members this reader would drop.
//
//	1.0  the first version (no "minor" member)
//	1.1  urgent, and the scenario questions
const Minor = 1

// Report is one report to a hotline, format v1. Field names and meanings are
// specified in docs/report-format.md; the JSON names are the specification.
type Report struct {
	// Version is always [Version].
	Version int `json:"version"`
	// Minor is the minor version, [Minor] when written by this package;
	// absent (0) in reports of version 1.0.
	Minor int `json:"minor,omitempty"`
	// ID is a random (version 4) UUID made in the browser. It is the
	// idempotency key end to end: relay spool, webhook-id and hotline inbox.
	ID string `json:"id"`
	// Hotline is the id of the hotline the report is for; the hotline checks
	// that it is its own.
	Hotline string `json:"hotline"`
	// Site is the id of the partner site the report was made from.
	Site string `json:"site"`
	// Created is when the reporter sent the report, UTC, to the second.
	Created time.Time `json:"created"`
	// Locale is the BCP 47 tag of the language the form was shown in.
	Locale string `json:"locale"`
	// Locations are where the material is: URLs first, or onion addresses
	// and free-text locations (an app username, a newsgroup, a magnet link).
	Locations []Location `json:"locations"`
	// SeenOn is where the reporter saw it; one of [SeenOnOptions].
	SeenOn string `json:"seen_on"`
	// Content is what kind of content it is; one of [ContentOptions].
	Content string `json:"content"`
	// Category is what it appears to be, in the reporter's view; one of
	// [Categories], restricted to the hotline's remit.
	Category string `json:"category"`
	// Urgent answers "is a child in danger right now, or is someone
	// threatening you?" ("yes", "no" or "unsure"). "yes" makes the report
	// urgent ([Report.IsUrgent]).
	Urgent string `json:"urgent,omitempty"`
	// The scenario questions, each "yes", "no" or "unsure", asked only
	// where they matter (see [DefaultForm]): AIMade for images, videos and
	// virtual content; LiveNow for livestreams; Threatened and
	// StillInContact for sextortion; AskedToMeet, MovedApp and
	// ImagesExchanged for [GroomingCategories]; ReporterInImages for
	// [OwnImageCategories].
	AIMade           string `json:"ai_made,omitempty"`
	LiveNow          string `json:"live_now,omitempty"`
	Threatened       string `json:"threatened,omitempty"`
	StillInContact   string `json:"still_in_contact,omitempty"`
	AskedToMeet      string `json:"asked_to_meet,omitempty"`
	MovedApp         string `json:"moved_app,omitempty"`
	ImagesExchanged  string `json:"images_exchanged,omitempty"`
	ReporterInImages string `json:"reporter_in_images,omitempty"`
	// SeenDate is the day the reporter saw it (YYYY-MM-DD), if given.
	SeenDate string `json:"seen_date,omitempty"`
	// Description is the reporter's free text, if any.
	Description string `json:"description,omitempty"`
	// Details are usernames, a forum path, a chat nickname: whatever helps
	// the analyst find it.
	Details string `json:"details,omitempty"`
	// ReporterCountry and IncidentCountry are ISO 3166-1 alpha-2 codes,
	// if given.
	ReporterCountry string `json:"reporter_country,omitempty"`
	IncidentCountry string `json:"incident_country,omitempty"`
	// ReporterUnder18 is set when the reporter said they are under 18.
	ReporterUnder18 bool `json:"reporter_under_18,omitempty"`
	// Contact is present only if the reporter chose to give it.
	Contact *Contact `json:"contact,omitempty"`
	// FollowUp is present only if the reporter asked for anonymous
	// follow-up (docs/follow-up.md): where and how to reply.
	FollowUp *FollowUp `json:"follow_up,omitempty"`
	// InReplyTo is set on a reporter's answer to the hotline's question:
	// the id of the report it follows up. An answer has a description and
	// none of a report's other fields.
	InReplyTo string `json:"in_reply_to,omitempty"`
}

// FollowUp is what the hotline needs to reply to a reporter who asked for
// follow-up; every value is derived from the reporter's receipt code,
// which the hotline never learns.
type FollowUp struct {
	// Mailbox is the relay's mailbox id, 32 lower-case hex digits.
	Mailbox string `json:"mailbox"`
	// Check is SHA-256 of the reporter's request key, unpadded base64url;
	// the hotline gives it to the relay with its reply.
	Check string `json:"check"`
	// ReplyTo is the reporter's "age1pq1…" key replies are sealed to.
	ReplyTo string `json:"reply_to"`
}

// Location is one place where the material is.
type Location struct {
	// Kind is "url" (http or https), "onion" (a Tor onion service) or
	// "other" (free text: app, newsgroup, peer-to-peer, username).
	Kind string `json:"kind"`
	// Value is what the reporter typed, trimmed of surrounding space.
	Value string `json:"value"`
}

// Contact is what a reporter who does not want to stay anonymous gives.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// WantsOutcome says the reporter asked to hear what happened.
	WantsOutcome bool `json:"wants_outcome,omitempty"`
}

// ErrMalformed is returned (wrapped) for a report that is not valid JSON of
// format v1.
var ErrMalformed = errors.New("malformed report")

// Parse decodes a report from its JSON, padded or not. Unknown fields, a
// version other than [Version] and anything but white space after the JSON
// are errors: a hotline must never act on a report it only half understood.
// Parse does not validate the content; call [Validate] for that.
func Parse(plaintext []byte) (*Report, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrMalformed, len(plaintext), MaxPlaintext)
	}
	r, ok := parseCanonical(plaintext)
	if !ok {
		var err error
		if r, err = parseStrict(plaintext); err != nil {
			return nil, err
		}
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%w: version %d, this software reads version %d", ErrMalformed, r.Version, Version)
	}
	if r.Minor < 0 || r.Minor > Minor {
		return nil, fmt.Errorf("%w: version 1.%d, this software reads up to 1.%d: update it", ErrMalformed, r.Minor, Minor)
	}
	return r, nil
}

// parseStrict decodes a report with encoding/json, refusing unknown
// fields and anything but white space after it; it words every refusal
// of Parse, and decodes what parseCanonical leaves to it.
func parseStrict(plaintext []byte) (*Report, error) {
	dec := json.NewDecoder(bytes.NewReader(plaintext))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the report", ErrMalformed)
	}
	return &r, nil
}

// IsUrgent reports whether the reporter said a child is in danger right
// now or that they are being threatened.
func (r *Report) IsUrgent() bool { return r.Urgent == "yes" }

// Reference is the short, human-friendly receipt reference for a report id:
// the first twelve hex digits of the id, upper case, in groups of four
// ("3F2A-91C0-77DE"). A hotline finds the report by it; the full id stays
// the key.
func Reference(id string) string {
	var hex []byte
	for i := 0; i < len(id) && len(hex) < 12; i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
			hex = append(hex, c)
		case c >= 'a' && c <= 'f':
			hex = append(hex, c-'a'+'A')
		}
	}
	var b bytes.Buffer
	for i, c := range hex {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String()
}

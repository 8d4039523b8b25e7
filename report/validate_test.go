package report

import (
	"crypto/rand"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/reportline/reportline/followup"
)

func TestValidate(t *testing.T) {
	form := DefaultForm()
	tests := []struct {
		name   string
		mutate func(r *Report)
		want   []string // "field[index]:code" as FieldError.Error() prints
	}{
		{"valid", func(r *Report) {}, nil},
		{"no locations", func(r *Report) { r.Locations = nil }, []string{"locations: required"}},
		{"bad url", func(r *Report) { r.Locations[0] = Location{Kind: "url", Value: "https://"} }, []string{"locations[0]: invalid_url"}},
		{"kind lies", func(r *Report) { r.Locations[0].Kind = "other" }, []string{"locations[0]: invalid"}},
		{"duplicate", func(r *Report) {
			r.Locations = append(r.Locations, Location{Kind: "url", Value: "HTTPS://EXAMPLE.com/gallery/123/"})
		}, []string{"locations[3]: duplicate"}},
		{"too many", func(r *Report) {
			r.Locations = make([]Location, MaxLocations+1)
		}, []string{"locations: too_many"}},
		{"missing choices", func(r *Report) { r.SeenOn, r.Content, r.Category = "", "", "" },
			[]string{"seen_on: required", "content: required", "category: required"}},
		{"unknown option", func(r *Report) { r.Category = "spam" }, []string{"category: unknown_option"}},
		{"future date", func(r *Report) { r.SeenDate = "2026-12-30" }, []string{"seen_date: future_date"}},
		{"bad date", func(r *Report) { r.SeenDate = "yesterday" }, []string{"seen_date: invalid_date"}},
		{"long description", func(r *Report) { r.Description = strings.Repeat("é", MaxDescriptionLen+1) }, []string{"description: too_long"}},
		{"max description", func(r *Report) { r.Description = strings.Repeat("é", MaxDescriptionLen) }, nil},
		{"bad email", func(r *Report) { r.Contact = &Contact{Email: "Bob <bob@example.org>"} }, []string{"contact_email: invalid_email"}},
		{"good contact", func(r *Report) { r.Contact = &Contact{Name: "A", Email: "a@example.org", WantsOutcome: true} }, nil},
		{"bad id", func(r *Report) { r.ID = "not-a-uuid" }, []string{"id: invalid"}},
		{"v1 uuid", func(r *Report) { r.ID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8" }, []string{"id: invalid"}},
		{"no hotline", func(r *Report) { r.Hotline = "" }, []string{"hotline: invalid"}},
		{"follow-up", func(r *Report) {
			r.FollowUp = &FollowUp{Mailbox: "668fbb402f4cd7a222bc258222969b3f", Check: "FETlnWV-NHUSp8gpjrXd2p6YvcH8i-z3bk7KLIW0B1A", ReplyTo: strings.Repeat("A", 1622) + "=="}
		}, nil},
		{"bad follow-up", func(r *Report) {
			r.FollowUp = &FollowUp{Mailbox: "668FBB402F4CD7A222BC258222969B3F", Check: "FETlnWV-NHUSp8gpjrXd2p6YvcH8i-z3bk7KLIW0B1A", ReplyTo: strings.Repeat("A", 1622) + "=="}
		}, []string{"follow_up: invalid"}},
		{"answer with report fields", func(r *Report) { r.InReplyTo = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88" },
			[]string{"locations: invalid", "seen_on: invalid", "content: invalid", "category: invalid"}},
		{"answer", func(r *Report) {
			*r = Report{Version: r.Version, ID: r.ID, Hotline: r.Hotline, Site: r.Site, Created: r.Created, Locale: r.Locale,
				InReplyTo: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", Description: "The second post."}
		}, nil},
		{"empty answer", func(r *Report) {
			*r = Report{Version: r.Version, ID: r.ID, Hotline: r.Hotline, Site: r.Site, Created: r.Created, Locale: r.Locale,
				InReplyTo: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"}
		}, []string{"description: required"}},
		{"answer to no id", func(r *Report) {
			*r = Report{Version: r.Version, ID: r.ID, Hotline: r.Hotline, Site: r.Site, Created: r.Created, Locale: r.Locale,
				InReplyTo: "R-1", Description: "x"}
		}, []string{"in_reply_to: invalid"}},
		// Scenario questions: answered where asked, refused where not.
		{"urgent", func(r *Report) { r.Urgent = "yes" }, nil},
		{"urgent maybe", func(r *Report) { r.Urgent = "perhaps" }, []string{"urgent: unknown_option"}},
		{"ai asked for images", func(r *Report) { r.AIMade = "unsure" }, nil},
		{"ai not asked for text", func(r *Report) { r.Content, r.AIMade = "text", "yes" }, []string{"ai_made: invalid"}},
		{"livestream", func(r *Report) { r.Content, r.LiveNow = "livestream", "yes" }, nil},
		{"live not asked", func(r *Report) { r.LiveNow = "yes" }, []string{"live_now: invalid"}},
		{"sextortion", func(r *Report) {
			r.Category, r.Threatened, r.StillInContact, r.MovedApp, r.ReporterInImages = "sextortion", "yes", "no", "yes", "yes"
		}, nil},
		{"threat not asked", func(r *Report) { r.Threatened, r.StillInContact = "yes", "no" },
			[]string{"threatened: invalid", "still_in_contact: invalid"}},
		{"grooming", func(r *Report) {
			r.Category, r.AskedToMeet, r.MovedApp, r.ImagesExchanged = "grooming", "yes", "unsure", "no"
		}, nil},
		{"moved app not asked", func(r *Report) { r.MovedApp = "yes" }, []string{"moved_app: invalid"}},
		{"own images", func(r *Report) { r.Category, r.ReporterInImages = "intimate_images_minor", "yes" }, nil},
		{"own images not asked", func(r *Report) { r.Category, r.ReporterInImages = "trafficking", "yes" },
			[]string{"reporter_in_images: invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			tt.mutate(r)
			err := Validate(form, r, now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			var got []string
			for _, fe := range ve.Errors {
				got = append(got, fe.Error())
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("errors %q lack %q", got, w)
				}
			}
		})
	}
}

func TestRemit(t *testing.T) {
	form := DefaultForm().WithCategories([]string{"grooming", "csam"})
	opts := form.Field("category").Options
	if strings.Join(opts, ",") != "csam,grooming" {
		t.Fatalf("options = %v, want form order csam,grooming", opts)
	}
	r := sample()
	r.Category = "sextortion"
	if err := Validate(form, r, now); err == nil || !strings.Contains(err.Error(), "category: unknown_option") {
		t.Fatalf("off-remit category accepted: %v", err)
	}
	if DefaultForm().Field("category").Options[0] != "csam" {
		t.Fatal("WithCategories changed the default form")
	}
}

func TestClassifyLocation(t *testing.T) {
	tests := []struct{ in, kind, code string }{
		{" https://example.com/a ", "url", ""},
		{"http://x.onion/path", "onion", ""},
		{"abcdefghijklmnop.onion/page", "onion", ""},
		{"magnet:?xt=urn:btih:abc", "other", ""},
		{"alt.binaries.something", "other", ""},
		{"https://", "", CodeInvalidURL},
		{"http://exa mple.com", "", CodeInvalidURL},
		{"   ", "", CodeRequired},
		{"a\nb", "", CodeInvalid},
		{strings.Repeat("a", MaxLocationLen+1), "", CodeTooLong},
	}
	for _, tt := range tests {
		l, code := ClassifyLocation(tt.in)
		if code != tt.code || l.Kind != tt.kind {
			t.Errorf("ClassifyLocation(%q) = %v, %q; want kind %q code %q", tt.in, l, code, tt.kind, tt.code)
		}
	}
}

func TestCatalogs(t *testing.T) {
	want := MessageKeys()
	locales := Locales()
	if len(locales) < 10 {
		t.Errorf("only %d locales: %v", len(locales), locales)
	}
	for _, loc := range locales {
		c, err := LoadCatalog(loc)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range want {
			if strings.TrimSpace(c[k]) == "" {
				t.Errorf("%s: missing message %q", loc, k)
			}
		}
		for k := range c {
			if !slices.Contains(want, k) {
				t.Errorf("%s: unused message %q", loc, k)
			}
		}
		// Placeholders must survive translation.
		en, _ := LoadCatalog("en")
		for k, v := range en {
			for _, ph := range placeholders.FindAllString(v, -1) {
				if !strings.Contains(c[k], ph) {
					t.Errorf("%s: %q lacks placeholder %s", loc, k, ph)
				}
			}
		}
	}
}

func TestFromValues(t *testing.T) {
	v := Values{
		"locations":     {"  https://example.com/a ", "", "https://", "user @x in some app"},
		"seen_on":       {"website"},
		"content":       {"video"},
		"category":      {"grooming"},
		"description":   {"line one\r\nline two  "},
		"contact_email": {"a@example.org"},
	}
	r, rows := FromValues(DefaultForm(), v, false)
	if len(r.Locations) != 3 || r.Locations[0] != (Location{Kind: "url", Value: "https://example.com/a"}) {
		t.Fatalf("locations = %+v", r.Locations)
	}
	if want := []int{0, 2, 3}; len(rows) != 3 || rows[0] != want[0] || rows[1] != want[1] || rows[2] != want[2] {
		t.Errorf("rows = %v, want %v", rows, want)
	}
	if r.Description != "line one\nline two" || r.Contact != nil {
		t.Errorf("description %q, contact %+v (contact must stay off unless opted in)", r.Description, r.Contact)
	}
	r.ID, r.Hotline, r.Site, r.Locale, r.Created = sample().ID, "h", "s", "en", now
	err := Validate(DefaultForm(), r, now)
	if err == nil || !strings.Contains(err.Error(), "locations[1]: invalid_url") {
		t.Errorf("Validate = %v, want the bad URL at location 1", err)
	}
	r, _ = FromValues(DefaultForm(), v, true)
	if r.Contact == nil || r.Contact.Email != "a@example.org" {
		t.Errorf("contact = %+v", r.Contact)
	}
}

// TestScenarioBranches walks the form's values through every scenario:
// each branch keeps the answers to its own questions, a question whose
// condition does not hold is dropped from the report, and what comes out
// validates.
func TestScenarioBranches(t *testing.T) {
	all := Values{
		"locations": {"https://example.com/a"}, "seen_on": {"social_media"}, "urgent": {"yes"},
		"ai_made": {"yes"}, "live_now": {"yes"}, "threatened": {"yes"}, "still_in_contact": {"no"},
		"asked_to_meet": {"no"}, "moved_app": {"yes"}, "images_exchanged": {"unsure"}, "reporter_in_images": {"yes"},
	}
	tests := []struct {
		content, category string
		want              string // the answers kept, as name=value
	}{
		{"image", "csam", "urgent=yes ai_made=yes reporter_in_images=yes"},
		{"virtual", "other", "urgent=yes ai_made=yes"},
		{"livestream", "trafficking", "urgent=yes live_now=yes"},
		{"text", "sextortion", "urgent=yes threatened=yes still_in_contact=no asked_to_meet=no moved_app=yes images_exchanged=unsure reporter_in_images=yes"},
		{"text", "grooming", "urgent=yes asked_to_meet=no moved_app=yes images_exchanged=unsure"},
		{"video", "intimate_images_minor", "urgent=yes ai_made=yes reporter_in_images=yes"},
		{"unsure", "misleading", "urgent=yes"},
	}
	for _, tt := range tests {
		t.Run(tt.content+"/"+tt.category, func(t *testing.T) {
			v := maps.Clone(all)
			v["content"], v["category"] = []string{tt.content}, []string{tt.category}
			r, _ := FromValues(DefaultForm(), v, false)
			var got []string
			for _, a := range r.Answers() {
				got = append(got, a.Field+"="+a.Value)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("answers kept: %q, want %q", strings.Join(got, " "), tt.want)
			}
			if r.Minor != Minor || !r.IsUrgent() {
				t.Errorf("minor %d, urgent %v: want %d and true", r.Minor, r.IsUrgent(), Minor)
			}
			r.ID, r.Hotline, r.Site, r.Locale, r.Created = sample().ID, "h", "s", "en", now
			if err := Validate(DefaultForm(), r, now); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFormFieldsInReport holds the form definition and the report
// together: every field that takes an answer is a member of the report.
func TestFormFieldsInReport(t *testing.T) {
	r := &Report{Contact: &Contact{}}
	for _, f := range DefaultForm().Fields {
		switch f.Kind {
		case KindLocations, KindNote, KindCheck:
			continue
		}
		if r.text(f.Name) == nil && !strings.HasPrefix(f.Name, "contact_") {
			t.Errorf("field %q has no member in the report", f.Name)
		}
	}
}

var placeholders = regexp.MustCompile(`\{[a-z]+\}`)

// TestGuidancePlain keeps what a reporter must read (the guidance, the
// notes, and every question with its hint, the scenario questions among
// them) short and plain in every language: no sentence over 25 words
// (the usual ceiling of plain-language guides) and no message over 280
// characters.
func TestGuidancePlain(t *testing.T) {
	const maxWords, maxChars = 25, 280
	sentenceEnd := func(r rune) bool { return strings.ContainsRune(".!?:;؟。", r) }
	for _, loc := range Locales() {
		c, err := LoadCatalog(loc)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for k, v := range c {
			if !strings.HasPrefix(k, "guidance.") && !strings.HasPrefix(k, "under18.") &&
				!strings.HasPrefix(k, "contact.") && !strings.HasPrefix(k, "receipt.") &&
				!strings.HasPrefix(k, "followup.") && !strings.HasPrefix(k, "field.") {
				continue
			}
			checked++
			if n := len([]rune(v)); n > maxChars {
				t.Errorf("%s: %q is %d characters, more than %d: shorten it", loc, k, n, maxChars)
			}
			for _, s := range strings.FieldsFunc(v, sentenceEnd) {
				if n := len(strings.Fields(s)); n > maxWords {
					t.Errorf("%s: %q has a sentence of %d words, more than %d: split it\n%s", loc, k, n, maxWords, s)
				}
			}
		}
		if checked < 10 {
			t.Errorf("%s: only %d guidance messages checked; have the keys been renamed?", loc, checked)
		}
	}
}

// The follow-up values the reporter's side derives pass validation as
// they are written.
func TestValidateDerivedFollowUp(t *testing.T) {
	s, err := followup.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := followup.Derive(s)
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	r.FollowUp = &FollowUp{Mailbox: k.Mailbox, Check: k.Check, ReplyTo: k.Recipient}
	if err := Validate(DefaultForm(), r, r.Created); err != nil {
		t.Fatal(err)
	}
	r.FollowUp.ReplyTo = k.Recipient[1:]
	if err := Validate(DefaultForm(), r, r.Created); err == nil {
		t.Fatal("a cut reply key passed")
	}
}

// TestConditionLists holds the exported lists to the conditions the form
// table writes out.
func TestConditionLists(t *testing.T) {
	f := DefaultForm()
	for name, want := range map[string][]string{"asked_to_meet": GroomingCategories, "moved_app": GroomingCategories,
		"images_exchanged": GroomingCategories, "reporter_in_images": OwnImageCategories, "ai_made": AIContent} {
		if got := f.Field(name).ShowWhen.Values; !slices.Equal(got, want) {
			t.Errorf("%s is shown for %v, want %v", name, got, want)
		}
	}
	for _, fd := range f.Fields {
		if fd.Kind == KindYesNo && !slices.Equal(fd.Options, YesNoOptions) {
			t.Errorf("%s has options %v, want %v", fd.Name, fd.Options, YesNoOptions)
		}
	}
}

package report

import (
	"slices"
	"strings"
)

// Limits of format v1. The form shows them, [Validate] enforces them, and the
// relay sizes its body limit from them.
const (
	MaxLocations      = 20
	MaxLocationLen    = 2048
	MaxDescriptionLen = 5000
	MaxDetailsLen     = 1000
	MaxContactLen     = 200
	MaxIDLen          = 64
)

// SeenOnOptions are the values of Report.SeenOn, in the order the form shows
// them.
var SeenOnOptions = []string{
	"website", "social_media", "messaging_app", "file_sharing", "forum",
	"email", "online_game", "livestream", "other",
}

// ContentOptions are the values of Report.Content, in form order.
var ContentOptions = []string{
	"image", "video", "livestream", "text", "virtual", "unsure",
}

// Categories are every value of Report.Category that format v1 knows, in
// form order. A hotline switches on the ones in its remit ([Form.Categories]).
var Categories = []string{
	"csam", "grooming", "sextortion", "intimate_images_minor",
	"trafficking", "travel_tourism", "sexual_material_to_child",
	"misleading", "other",
}

// GroomingCategories are the categories for which the form asks whether
// someone asked to meet, whether images were exchanged and whether the
// conversation was moved to another app.
var GroomingCategories = []string{"grooming", "sextortion", "sexual_material_to_child"}

// OwnImageCategories are the categories for which the form asks whether
// the reporter is the person in the images.
var OwnImageCategories = []string{"csam", "sextortion", "intimate_images_minor"}

// AIContent are the kinds of content for which the form asks whether it
// was made or changed with AI.
var AIContent = []string{"image", "video", "virtual"}

// YesNoOptions are the answers to a yes-or-no question.
var YesNoOptions = []string{"yes", "no", "unsure"}

// FieldKind says how a field is entered and checked.
type FieldKind int

// The kinds of field a form has.
const (
	KindLocations FieldKind = iota // a list of URLs or other locations
	KindChoice                     // one of a fixed set of options
	KindDate                       // a day, YYYY-MM-DD, not in the future
	KindText                       // free text on several lines
	KindLine                       // free text on one line
	KindEmail                      // an email address
	KindYesNo                      // yes, no or unsure, as radio buttons
	KindCountry                    // an ISO 3166-1 alpha-2 code
	KindCheck                      // a checkbox; "yes" when ticked
	KindNote                       // no input: advice shown while its condition holds
)

// Field is one field of the form: the name it has in the HTML and in the
// JSON, how it is entered, and its limits. Its label, hint and option texts
// are messages named after it ("field.NAME.label", "option.NAME.VALUE").
type Field struct {
	Name     string
	Kind     FieldKind
	Required bool
	MaxLen   int
	Options  []string
	// Group places the field in a section of the form: "" for the main
	// part, "under18" or "contact" for the sections a reporter opens.
	Group string
	// ShowWhen, if set, shows the field only while another choice field
	// has one of the given values; otherwise its value is ignored.
	ShowWhen *Condition
	// Rows is the height of a text field, in lines.
	Rows int
	// Hint marks a field that has a hint under its label.
	Hint bool
	// OptionsFrom names an earlier field with the same options. The page
	// lists them once and the module copies them, which keeps the page
	// the reporter waits for small (a country list is 12 KB).
	OptionsFrom string
	// Texts are the message keys of a note's paragraphs (KindNote).
	Texts []string
}

// LabelKey is the message key of the field's label.
func (f *Field) LabelKey() string { return "field." + f.Name + ".label" }

// HintKey is the message key of the field's hint.
func (f *Field) HintKey() string { return "field." + f.Name + ".hint" }

// OptionKey is the message key of one of the field's options. Countries
// have none: their names come from the locale's data.
func (f *Field) OptionKey(value string) string {
	if f.Kind == KindYesNo {
		return "option.yesno." + value
	}
	return "option." + f.Name + "." + value
}

// Condition makes a field depend on the value of another.
type Condition struct {
	Field  string
	Values []string
}

// Holds reports whether the condition is met by a value of its field.
func (c *Condition) Holds(value string) bool {
	return c == nil || slices.Contains(c.Values, value)
}

// Form is the one definition of the report form. The relay renders the
// HTML from it, and the widget and the hotline validate with it, so the
// three cannot drift apart.
type Form struct {
	Fields []Field
}

// DefaultForm returns the form of format v1 with every category in remit.
// The scenario questions after the category are asked only where they
// matter: sextortion, grooming, images of the reporter, AI and
// livestreams.
func DefaultForm() *Form {
	return &Form{Fields: slices.Clone(defaultFields)}
}

// defaultFields are the fields of [DefaultForm], in form order. A table
// rather than code, with literal answers and conditions, so that the
// compiler lays most of it out as data: it costs the browser's module
// less. The conditions repeat [GroomingCategories], [OwnImageCategories]
// and [AIContent]; TestConditionLists holds them together.
var defaultFields = []Field{
	{Name: "locations", Kind: KindLocations, Required: true, MaxLen: MaxLocationLen, Hint: true},
	{Name: "urgent", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}},
	{Name: "urgent_note", Kind: KindNote, ShowWhen: &Condition{Field: "urgent", Values: []string{"yes"}}, Texts: []string{"guidance.emergency", "guidance.urgent"}},
	{Name: "seen_on", Kind: KindChoice, Required: true, Options: SeenOnOptions},
	{Name: "content", Kind: KindChoice, Required: true, Options: ContentOptions},
	{Name: "category", Kind: KindChoice, Required: true, Options: Categories},
	{Name: "threatened", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "category", Values: []string{"sextortion"}}},
	{Name: "still_in_contact", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "category", Values: []string{"sextortion"}}},
	{Name: "sextortion_note", Kind: KindNote, ShowWhen: &Condition{Field: "category", Values: []string{"sextortion"}}, Texts: []string{"guidance.sextortion"}},
	{Name: "asked_to_meet", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "category", Values: []string{"grooming", "sextortion", "sexual_material_to_child"}}},
	{Name: "moved_app", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "category", Values: []string{"grooming", "sextortion", "sexual_material_to_child"}}},
	{Name: "images_exchanged", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "category", Values: []string{"grooming", "sextortion", "sexual_material_to_child"}}},
	{Name: "reporter_in_images", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "category", Values: []string{"csam", "sextortion", "intimate_images_minor"}}},
	{Name: "own_images_note", Kind: KindNote, ShowWhen: &Condition{Field: "reporter_in_images", Values: []string{"yes"}}, Texts: []string{"under18.own_images", "under18.report_remove"}},
	{Name: "ai_made", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "content", Values: []string{"image", "video", "virtual"}}},
	{Name: "live_now", Kind: KindYesNo, Options: []string{"yes", "no", "unsure"}, ShowWhen: &Condition{Field: "content", Values: []string{"livestream"}}},
	{Name: "seen_date", Kind: KindDate},
	{Name: "description", Kind: KindText, MaxLen: MaxDescriptionLen, Rows: 5, Hint: true},
	{Name: "details", Kind: KindText, MaxLen: MaxDetailsLen, Rows: 2, Hint: true},
	{Name: "reporter_country", Kind: KindCountry, Options: Countries},
	{Name: "incident_country", Kind: KindCountry, Options: Countries, OptionsFrom: "reporter_country"},
	{Name: "reporter_under_18", Kind: KindCheck, Group: "under18"},
	{Name: "contact_name", Kind: KindLine, MaxLen: MaxContactLen, Group: "contact"},
	{Name: "contact_email", Kind: KindEmail, MaxLen: MaxContactLen, Group: "contact"},
	{Name: "contact_phone", Kind: KindLine, MaxLen: MaxContactLen, Group: "contact"},
	{Name: "contact_wants_outcome", Kind: KindCheck, Group: "contact"},
}

// WithCategories returns a copy of f whose category field offers only the
// given categories (a hotline's remit), in form order. Unknown names are
// ignored; the caller validates its configuration with [KnownCategory].
func (f *Form) WithCategories(remit []string) *Form {
	g := &Form{Fields: slices.Clone(f.Fields)}
	for i, fd := range g.Fields {
		if fd.Name != "category" {
			continue
		}
		var opts []string
		for _, c := range Categories {
			if slices.Contains(remit, c) {
				opts = append(opts, c)
			}
		}
		g.Fields[i].Options = opts
	}
	return g
}

// Field returns the field named name, or nil.
func (f *Form) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// KnownCategory reports whether c is a category of format v1.
func KnownCategory(c string) bool { return slices.Contains(Categories, c) }

// Countries are the ISO 3166-1 alpha-2 codes a country field accepts.
var Countries = strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV
CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD
GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK
LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW
MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR
PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY
UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`)

package report

import "slices"

// Limits of format v1. The form shows them, [Validate] enforces them, and the
// relay sizes its body limit from them.
const (
	MaxLocations      = 20
	MaxLocationLen    = 2048
	MaxDescriptionLen = 5000
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
	// Contact marks the optional contact fields, shown only when the
	// reporter opts in.
	Contact bool
}

// Form is the one definition of the report form. The relay renders the
// HTML from it, and the widget and the hotline validate with it, so the
// three cannot drift apart.
type Form struct {
	Fields []Field
}

// DefaultForm returns the form of format v1 with every category in remit.
func DefaultForm() *Form {
	return &Form{Fields: []Field{
		{Name: "locations", Kind: KindLocations, Required: true, MaxLen: MaxLocationLen},
		{Name: "seen_on", Kind: KindChoice, Required: true, Options: SeenOnOptions},
		{Name: "content", Kind: KindChoice, Required: true, Options: ContentOptions},
		{Name: "category", Kind: KindChoice, Required: true, Options: Categories},
		{Name: "seen_date", Kind: KindDate},
		{Name: "description", Kind: KindText, MaxLen: MaxDescriptionLen},
		{Name: "contact_name", Kind: KindLine, MaxLen: MaxContactLen, Contact: true},
		{Name: "contact_email", Kind: KindEmail, MaxLen: MaxContactLen, Contact: true},
		{Name: "contact_phone", Kind: KindLine, MaxLen: MaxContactLen, Contact: true},
	}}
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

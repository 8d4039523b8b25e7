package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Theme is how the loader draws the report button on a partner's pages.
// The names match the loader's data-attributes (data-color,
// data-position, data-label), which override them on one page.
type Theme struct {
	// Color is the button's background as "#rrggbb"; its text is white,
	// so the colour must contrast with white at 4.5:1 or more (WCAG AA).
	Color string `toml:"color" json:"color"`
	// Position is the corner the button sits in, one of Positions.
	Position string `toml:"position" json:"position"`
	// Label is the button's text; empty means the loader's default in the
	// visitor's language.
	Label string `toml:"label" json:"label"`
}

// Positions are the corners a button may sit in.
var Positions = []string{"bottom-right", "bottom-left", "top-right", "top-left"}

// Theme defaults: the loader's own red, bottom right.
const (
	DefaultColor    = "#b00020"
	DefaultPosition = "bottom-right"
)

// maxLabelLen bounds a button label, in characters: a button, not a
// paragraph.
const maxLabelLen = 60

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func (t *Theme) defaults() {
	if t.Color == "" {
		t.Color = DefaultColor
	}
	t.Color = strings.ToLower(t.Color)
	if t.Position == "" {
		t.Position = DefaultPosition
	}
}

// validate reports each bad theme value through bad, under key.
func (t *Theme) validate(key string, bad func(key, format string, args ...any)) {
	if !colorPattern.MatchString(t.Color) {
		bad(key+".color", "%q is not a colour like \"#b00020\": write it as # and six hex digits", t.Color)
	} else if r := contrastWithWhite(t.Color); r < 4.5 {
		bad(key+".color", "%q has a contrast of %.1f:1 with the button's white text; pick a darker colour (at least 4.5:1)", t.Color, r)
	}
	if !slices.Contains(Positions, t.Position) {
		bad(key+".position", "%q: use one of %s", t.Position, strings.Join(Positions, ", "))
	}
	switch {
	case !utf8.ValidString(t.Label):
		bad(key+".label", "is not valid UTF-8")
	case utf8.RuneCountInString(t.Label) > maxLabelLen:
		bad(key+".label", "is %d characters long; keep a button label to %d", utf8.RuneCountInString(t.Label), maxLabelLen)
	case strings.IndexFunc(t.Label, unicode.IsControl) >= 0:
		bad(key+".label", "contains a control character")
	case t.Label != "" && strings.TrimSpace(t.Label) == "":
		bad(key+".label", "is only spaces; leave it out for the default label")
	}
}

// contrastWithWhite returns the WCAG 2 contrast ratio of a "#rrggbb"
// colour with white.
func contrastWithWhite(hex string) float64 {
	lum := 0.0
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	return 1.05 / (lum + 0.05)
}

// String writes the theme as the loader's data-attributes, for messages.
func (t Theme) String() string {
	return fmt.Sprintf("data-color=%q data-position=%q data-label=%q", t.Color, t.Position, t.Label)
}

// Package termsafe makes text from a report safe to print on an analyst's
// terminal. Anyone can seal a report to a hotline's public key, so every
// field is untrusted: a raw escape sequence could write to the clipboard
// (OSC 52), move the cursor to draw lines that are not in the report, or
// hide text; a bidi override or an invisible character could make an
// address read as another.
//
// [Escape] replaces each such character with a visible escape in Go's
// notation (\r, \x1b, \u202e, \U000e0041; \xff for a byte that is not UTF-8),
// so the analyst sees that it was there and what it was. [Clean] reports
// whether a text holds none, which the intake records with each report.
//
// The characters escaped are:
//   - C0 and C1 controls and DEL (Unicode category Cc);
//   - format characters (Cf): bidi embeddings, overrides and isolates,
//     zero-width spaces and joiners, the byte order mark, soft hyphens,
//     tag characters;
//   - the line and paragraph separators U+2028 and U+2029;
//   - characters drawn as nothing: the combining grapheme joiner U+034F,
//     the Hangul fillers and the variation selectors U+E0100 to U+E01EF;
//   - bytes that are not UTF-8.
//
// Multi-line text ([EscapeText], [CleanText]) keeps its line feeds and tabs.
package termsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every control, bidi, invisible or non-UTF-8
// character replaced by a visible escape; s itself if there is none.
func Escape(s string) string { return escape(s, false) }

// EscapeText is [Escape] for multi-line text: it keeps line feeds and tabs.
func EscapeText(s string) string { return escape(s, true) }

// Clean reports whether [Escape] leaves s unchanged.
func Clean(s string) bool { return clean(s, false) }

// CleanText reports whether [EscapeText] leaves s unchanged.
func CleanText(s string) bool { return clean(s, true) }

// Hidden reports whether r is escaped: a control, format, separator or
// invisible character. Line feed and tab count as hidden here.
func Hidden(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r < 0x7f:
		return false
	case r == 0x034f, r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0,
		r == 0x2028, r == 0x2029, r >= 0xe0100 && r <= 0xe01ef:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

func keep(r rune, text bool) bool {
	return text && (r == '\n' || r == '\t')
}

func clean(s string, text bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (Hidden(r) && !keep(r, text)) {
			return false
		}
		i += n
	}
	return true
}

func escape(s string, text bool) string {
	if clean(s, text) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			hex(&b, `\x`, uint32(s[i]), 2)
		case !Hidden(r) || keep(r, text):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			hex(&b, `\x`, uint32(r), 2)
		case r <= 0xffff:
			hex(&b, `\u`, uint32(r), 4)
		default:
			hex(&b, `\U`, uint32(r), 8)
		}
		i += n
	}
	return b.String()
}

func hex(b *strings.Builder, prefix string, v uint32, width int) {
	b.WriteString(prefix)
	h := strconv.FormatUint(uint64(v), 16)
	b.WriteString(strings.Repeat("0", width-len(h)))
	b.WriteString(h)
}

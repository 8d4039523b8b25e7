package termsafe

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/reportline/reportline/internal/fuzzseed"
)

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, want, text string }{
		{"https://example.com/a?b=c", "https://example.com/a?b=c", ""},
		{"Ελληνικά, العربية, 中文, emoji 👍🏽", "Ελληνικά, العربية, 中文, emoji 👍🏽", ""},
		{"\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\x07`, ""},
		{"\x1b[8mhidden\x1b[0m", `\x1b[8mhidden\x1b[0m`, ""},
		{"a\rb\x00c\x7f", `a\rb\x00c\x7f`, ""},
		{"\u009b2J\u0085", `\u009b2J\u0085`, ""},
		{"gpj.\u202eexe", `gpj.\u202eexe`, ""},
		{"\u2066x\u2069\u200e\u200f\u061c", `\u2066x\u2069\u200e\u200f\u061c`, ""},
		{"a\u200bb\u200dc\ufeffd\u00ade", `a\u200bb\u200dc\ufeffd\u00ade`, ""},
		{"tag\U000e0041\U000e007f", `tag\U000e0041\U000e007f`, ""},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`, ""},
		{"\u3164\u115f\u034f\U000e0100", `\u3164\u115f\u034f\U000e0100`, ""},
		{"bad\xff\xc0utf8", `bad\xff\xc0utf8`, ""},
		{"one\ntwo\tthree", `one\ntwo\tthree`, "one\ntwo\tthree"},
		{"one\r\ntwo\x1b", `one\r\ntwo\x1b`, "one\\r\ntwo\\x1b"},
	} {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if Clean(tt.in) != (tt.in == tt.want) {
			t.Errorf("Clean(%q) = %v", tt.in, Clean(tt.in))
		}
		if tt.text != "" {
			if got := EscapeText(tt.in); got != tt.text {
				t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.text)
			}
			if CleanText(tt.in) != (tt.in == tt.text) {
				t.Errorf("CleanText(%q) = %v", tt.in, CleanText(tt.in))
			}
		}
	}
}

// FuzzEscape: whatever the input, the escaped text is valid UTF-8 without
// a hidden character (line feeds and tabs only in multi-line text),
// escaping it again changes nothing, and Clean agrees with Escape.
func FuzzEscape(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, text := range []bool{false, true} {
			e := escape(s, text)
			if !utf8.ValidString(e) {
				t.Fatalf("escape(%q, %v) = %q: not UTF-8", s, text, e)
			}
			for _, r := range e {
				if Hidden(r) && !keep(r, text) {
					t.Fatalf("escape(%q, %v) = %q holds %U", s, text, e, r)
				}
			}
			if again := escape(e, text); again != e {
				t.Fatalf("escaping %q twice: %q, then %q", s, e, again)
			}
			if clean(s, text) != (e == s) {
				t.Fatalf("clean(%q, %v) = %v but escape gives %q", s, text, clean(s, text), e)
			}
			if !text && strings.ContainsAny(e, "\n\t") {
				t.Fatalf("Escape(%q) = %q keeps a line feed or tab", s, e)
			}
		}
	})
}

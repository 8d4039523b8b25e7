package e2e

import (
	"strings"
	"testing"
)

// buttonLook is how the report button looks and where it is.
type buttonLook struct {
	Background, Text, HostPosition, Parent string
	Left, Top, Right, Bottom, W, H         float64
}

const buttonLookJS = `function () {
	const b = this.querySelector("button"), r = b.getBoundingClientRect();
	return {Background: getComputedStyle(b).backgroundColor, Text: b.textContent,
		HostPosition: getComputedStyle(this.host).position, Parent: this.host.parentElement.id || this.host.parentElement.tagName,
		Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom, W: innerWidth, H: innerHeight};
}`

// warnings returns the loader's console warnings among lines.
func warnings(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "console.warning") && strings.Contains(l, "reportline:") {
			out = append(out, l)
		}
	}
	return out
}

// TestTheme tries the site owner's options on the partner page's /themed
// variant: a valid colour, position and label apply, and data-target
// draws the button inline in the given element; an invalid value of each
// is ignored, with a console warning that names the attribute.
func TestTheme(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t)
	const defaultBG, defaultLabel = "rgb(176, 0, 32)", "Report child sexual abuse"
	for _, c := range []struct {
		name   string
		params map[string]string
		check  func(l buttonLook) string
		warn   string // the attribute a warning must name; "" for none
	}{
		{"valid", map[string]string{"color": "#1d4ed8", "position": "top-left", "label": "Missbrauch melden"},
			func(l buttonLook) string {
				if l.Background != "rgb(29, 78, 216)" || l.Text != "Missbrauch melden" || l.HostPosition != "fixed" ||
					l.Left > 20 || l.Top > 20 {
					return "#1d4ed8, labelled Missbrauch melden, fixed at the top left"
				}
				return ""
			}, ""},
		{"inline", map[string]string{"target": "report-slot", "position": "top-left"},
			func(l buttonLook) string {
				if l.Parent != "report-slot" || l.HostPosition == "fixed" || l.Background != defaultBG {
					return "inline in #report-slot"
				}
				return ""
			}, ""},
		{"color not hex", map[string]string{"color": "red"}, isDefault, "data-color"},
		{"color too light for white text", map[string]string{"color": "#ffff00"}, isDefault, "data-color"},
		{"position unknown", map[string]string{"position": "middle"}, isDefault, "data-position"},
		{"label too long", map[string]string{"label": strings.Repeat("Report ", 10)}, isDefault, "data-label"},
		{"target missing", map[string]string{"target": "no-such-element"}, isDefault, "data-target"},
		{"locale not a tag", map[string]string{"locale": "german please"}, isDefault, "data-locale"},
	} {
		// One browser for every case: each opens the page anew.
		t.Logf("%s: %v", c.name, c.params)
		before := len(b.consoleLines())
		b.openPage(themedURL(t, s.PartnerURL, c.params))
		l := shadow[buttonLook](b, "read the button", buttonLookJS)
		if want := c.check(l); want != "" {
			t.Errorf("%s: the button is %+v; want it %s", c.name, l, want)
		}
		if l.Left < 0 || l.Top < 0 || l.Right > l.W || l.Bottom > l.H || l.Right-l.Left < 44 || l.Bottom-l.Top < 44 {
			t.Errorf("%s: the button at %+v is not a 44 px target wholly in the viewport", c.name, l)
		}
		label := c.params["label"]
		if c.warn != "" || label == "" {
			label = defaultLabel
		}
		checkButtonAX(t, b, label)
		// The warnings come at once, but for data-locale's, which the
		// loader checks against the relay's languages on the first sign
		// of intent: the click.
		b.saveScreenshot("theme-" + strings.ReplaceAll(c.name, " ", "-") + ".png")
		b.clickButton()
		f := b.attachFrame(s)
		f.waitReady()
		if c.params["locale"] != "" {
			checkLanguage(t, f, "en")
		}
		got := warnings(b.consoleLines()[before:])
		switch {
		case c.warn == "" && len(got) > 0:
			t.Errorf("%s: valid options gave warnings:%s", c.name, joinLines(got))
		case c.warn != "" && (len(got) != 1 || !strings.Contains(got[0], c.warn)):
			t.Errorf("%s: the warnings are %s; want one that names %s", c.name, joinLines(got), c.warn)
		default:
			t.Logf("%s: warnings: %s", c.name, joinLines(got))
		}
	}
}

// isDefault checks that the button has the default colour, label and
// place: an invalid option changed nothing.
func isDefault(l buttonLook) string {
	if l.Background != "rgb(176, 0, 32)" || l.Text != "Report child sexual abuse" || l.HostPosition != "fixed" ||
		l.W-l.Right > 20 || l.H-l.Bottom > 20 {
		return "as by default, #b00020 and fixed at the bottom right"
	}
	return ""
}

// TestLocaleNotAvailable: a well-formed data-locale the relay has no form
// for is ignored with a warning, and the visitor's browser languages
// decide.
func TestLocaleNotAvailable(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t, withLang("fr-FR"))
	b.openPage(themedURL(t, s.PartnerURL, map[string]string{"locale": "sv"}))
	b.clickButton()
	f := b.attachFrame(s)
	f.waitReady()
	checkLanguage(t, f, "fr")
	got := warnings(b.consoleLines())
	if len(got) != 1 || !strings.Contains(got[0], "data-locale") {
		t.Errorf("the warnings are %s; want one that names data-locale", joinLines(got))
	}
}

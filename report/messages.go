package report

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed messages/*.json
var catalogFS embed.FS

// Catalog is the messages of one language, by key.
type Catalog map[string]string

// DefaultLocale is the language used when no other fits.
const DefaultLocale = "en"

// LoadCatalog returns the messages for a locale ("en", "de", …).
func LoadCatalog(locale string) (Catalog, error) {
	b, err := catalogFS.ReadFile("messages/" + locale + ".json")
	if err != nil {
		return nil, fmt.Errorf("no messages for locale %q", locale)
	}
	var c Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("failed to parse messages for %q: %w", locale, err)
	}
	return c, nil
}

// T returns the message for key with {name} placeholders replaced by
// args given as name, value pairs. A missing key returns the key itself, so
// a gap shows instead of hiding.
func (c Catalog) T(key string, args ...string) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+args[i]+"}", args[i+1])
	}
	return s
}

// Locales lists the locales that have a message catalog, sorted.
func Locales() []string {
	entries, _ := catalogFS.ReadDir("messages")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	return out
}

// RTL reports whether a locale is written right to left.
func RTL(locale string) bool {
	switch locale {
	case "ar", "fa", "he", "ur":
		return true
	}
	return false
}

package frame

import (
	"strings"
	"testing"
)

func TestPickLocale(t *testing.T) {
	tests := []struct {
		tag     string
		hotline []string
		want    string
	}{
		{"de-DE,en", nil, "de"},
		{"fr-CA", nil, "fr"},
		{"AR", nil, "ar"},
		{"xx,uk-UA", nil, "uk"},
		{"ja", []string{"nl", "en"}, "nl"},
		{"", []string{"pl"}, "pl"},
		{"ja", nil, "en"},
		{"", nil, "en"},
		// Portuguese: a Brazilian browser gets Brazilian Portuguese, any
		// other Portuguese the European.
		{"pt-BR,pt,en", nil, "pt-BR"},
		{"pt-br", nil, "pt-BR"},
		{"pt-PT,pt", nil, "pt"},
		{"pt", nil, "pt"},
		{"pt-AO", nil, "pt"},
		{"ja", []string{"pt-BR"}, "pt-BR"},
		{"en-GB;q=0.8", nil, "en"},
	}
	for _, tt := range tests {
		if got := PickLocale(tt.tag, tt.hotline); got != tt.want {
			t.Errorf("PickLocale(%q, %v) = %q, want %q", tt.tag, tt.hotline, got, tt.want)
		}
	}
}

// TestMatchLocaleRegions: a catalogue for a group of countries, such as
// Latin American Spanish (es-419), is chosen for a browser in one of them.
func TestMatchLocaleRegions(t *testing.T) {
	have := []string{"en", "es", "es-419", "pt", "pt-BR"}
	tests := []struct{ tag, want string }{
		{"es-MX", "es-419"},
		{"es-AR,es", "es-419"},
		{"es-419", "es-419"},
		{"es-ES", "es"},
		{"es", "es"},
		{"es-US", "es"}, // the United States are not in Latin America (419)
		{"pt-BR", "pt-BR"},
		{"pt-MZ", "pt"},
		{"de", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := matchLocale(strings.Split(tt.tag, ","), have); got != tt.want {
			t.Errorf("matchLocale(%q) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}

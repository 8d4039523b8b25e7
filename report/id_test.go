package report

import (
	"testing"

	"github.com/google/uuid"
)

// NewID makes what the relay and the hotline take as a report id: a
// version 4 UUID in lower-case canonical form, as a UUID library parses
// it; ValidID agrees with that library on what it makes and refuses the
// rest.
func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id || !ValidID(id, true) {
			t.Fatalf("NewID made %q (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("NewID made %q twice", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "3F2A91C0-77DE-4C1B-9A4E-2B7C5D1E0F88", "{3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88}",
		"3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f8", "3f2a91c0+77de-4c1b-9a4e-2b7c5d1e0f88", "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f8g"} {
		if ValidID(bad, false) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
	if ValidID("6ba7b810-9dad-11d1-80b4-00c04fd430c8", true) || !ValidID("6ba7b810-9dad-11d1-80b4-00c04fd430c8", false) {
		t.Error("ValidID does not tell a version 1 UUID from a version 4 one")
	}
}

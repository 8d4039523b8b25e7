package intake

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRemoveTemporary: what a store cut short by a crash leaves where
// files cannot be written unnamed (temporary files, in the inbox and its
// urgent folder) is removed; reports, other files and folders are kept.
func TestRemoveTemporary(t *testing.T) {
	inbox := t.TempDir()
	urgent := filepath.Join(inbox, UrgentDir)
	os.Mkdir(urgent, 0o700)
	for _, p := range []string{".tmp-123", "a.json", "a.age", "notes.txt", "urgent/.tmp-9", "urgent/b.json"} {
		if err := os.WriteFile(filepath.Join(inbox, p), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(inbox, ".tmp-dir"), 0o700) // not a file this package writes
	n, err := RemoveTemporary(inbox)
	if err != nil || n != 2 {
		t.Errorf("RemoveTemporary = %d, %v; want 2 removed", n, err)
	}
	var left []string
	filepath.WalkDir(inbox, func(p string, d os.DirEntry, err error) error {
		if rel, _ := filepath.Rel(inbox, p); rel != "." {
			left = append(left, rel)
		}
		return nil
	})
	want := []string{".tmp-dir", "a.age", "a.json", "notes.txt", "urgent", "urgent/b.json"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	// An inbox not made yet holds nothing to remove.
	if n, err := RemoveTemporary(filepath.Join(inbox, "none")); n != 0 || err != nil {
		t.Errorf("RemoveTemporary of a missing inbox = %d, %v", n, err)
	}
}

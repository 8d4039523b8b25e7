package mailbox

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenMakesItsFolder: a mailbox file in a folder that does not exist
// yet (a fresh state directory) is made there, as the spool is.
func TestOpenMakesItsFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "replies", "mailbox.db")
	s, err := Open(path, time.Hour)
	if err != nil {
		t.Fatalf("Open in a missing folder: %v", err)
	}
	s.Close()
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the folder: %v, %v; want it made with mode 0700", st, err)
	}
}

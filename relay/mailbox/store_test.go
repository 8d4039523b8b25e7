package mailbox_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/reportline/reportline/relay/mailbox"
	"github.com/reportline/reportline/relay/mailbox/mailboxtest"
)

func TestStore(t *testing.T) {
	mailboxtest.Run(t, func(t *testing.T, retention time.Duration) mailboxtest.Store {
		s, err := mailbox.Open(filepath.Join(t.TempDir(), "mailbox.db"), retention)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

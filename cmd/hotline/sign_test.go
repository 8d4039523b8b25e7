package main

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/statement"
)

// keygen -sign and sign make a statement that verifies with the printed
// key and says what the flags said.
func TestKeygenSignAndSign(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "signing.key")
	out, errOut, code := run(t, "keygen", "-sign", "-o", keyFile)
	vk := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(vk, statement.VerificationKeyPrefix) {
		t.Fatalf("keygen -sign: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file mode %v, %v; want 0600", st.Mode(), err)
	}
	recipient, _, _ := run(t, "keygen", "-o", filepath.Join(dir, "identity.txt"))
	recipient = strings.TrimSpace(recipient)

	stFile := filepath.Join(dir, "de-hotline.statement")
	out, errOut, code = run(t, "sign", "-key", keyFile, "-hotline", "de-hotline", "-serial", "4",
		"-valid-from", "2030-01-01T00:00:00Z", "-valid-for", "720h", "-o", stFile, recipient)
	if code != 0 {
		t.Fatalf("sign: code %d, stderr %q", code, errOut)
	}
	// It says what it wrote and where the statement goes next.
	if !strings.Contains(out, "wrote "+stFile+" (serial 4, valid until 2030-01-31T00:00:00Z)") || !strings.Contains(out, vk) || !strings.Contains(out, "relay init -statement") {
		t.Errorf("sign -o printed %q", out)
	}
	b, err := os.ReadFile(stFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := statement.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(vk); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Hotline != "de-hotline" || s.Serial != 4 || !s.ValidFrom.Equal(want) || !s.ValidUntil.Equal(want.Add(720*time.Hour)) ||
		len(s.Recipients) != 1 || s.Recipients[0] != recipient {
		t.Fatalf("statement says %+v", s)
	}
	if err := s.Check("de-hotline", 0, want.Add(-time.Hour), 0); !errors.Is(err, statement.ErrNotYetValid) {
		t.Fatalf("check before valid-from: %v", err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sign", "-key", keyFile, "-hotline", "de-hotline", recipient}, "-serial is required"},
		{[]string{"sign", "-key", keyFile, "-hotline", "de-hotline", "-serial", "1", "age1nonsense"}, "hotline: hint:"},
		{[]string{"sign", "-key", filepath.Join(dir, "identity.txt"), "-hotline", "de-hotline", "-serial", "1", recipient}, "malformed hotline key"},
		{[]string{"sign", "-key", keyFile, "-hotline", "de-hotline", "-serial", "5", "-o", stFile, recipient}, "never overwrites"},
	} {
		if _, errOut, code := run(t, tc.args...); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, stderr %q; want it to say %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestIntakeRotation: during a rotation the intake takes the old and the
// new statement, and the old and the new identity file, separated by
// commas, as docs/key-statement.md says: it expects envelopes sealed
// under either statement, and holds both keys.
func TestIntakeRotation(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	out, errOut, code := run(t, "keygen", "-sign", "-o", in("signing.key"))
	if code != 0 {
		t.Fatal(errOut)
	}
	vk := strings.TrimSpace(out)
	var pubs []string
	for _, f := range []string{"identity.txt", "new-identity.txt"} {
		out, errOut, code := run(t, "keygen", "-o", in(f))
		if code != 0 {
			t.Fatal(errOut)
		}
		pubs = append(pubs, strings.TrimSpace(out))
	}
	if _, errOut, code := run(t, "sign", "-key", in("signing.key"), "-hotline", "h1", "-serial", "1", "-o", in("old.statement"), pubs[0]); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := run(t, append([]string{"sign", "-key", in("signing.key"), "-hotline", "h1", "-serial", "2", "-o", in("new.statement")}, pubs...)...); code != 0 {
		t.Fatal(errOut)
	}
	o := intakeOptions{hotline: "h1", statement: in("old.statement") + "," + in("new.statement"), statementKey: vk}
	expect, err := o.expectedRecipients()
	if err != nil {
		t.Fatal(err)
	}
	if len(expect) != 2 || expect[0].Len() != 1 || expect[1].Len() != 2 {
		t.Errorf("expected recipients of the two statements: %d sets; want the old statement's one and the new one's two", len(expect))
	}
	ids, err := loadIdentities(in("identity.txt") + "," + in("new-identity.txt"))
	if err != nil || len(ids) != 2 {
		t.Errorf("identities of two files: %d, %v; want 2", len(ids), err)
	}
	// The start line says what the intake takes.
	var log strings.Builder
	o.listen, o.path, o.identity, o.inbox, o.verifyKey, o.logOut = "127.0.0.1:0", "/v1/deliveries", in("identity.txt")+","+in("new-identity.txt"), in("inbox"),
		"whpk_"+base64.StdEncoding.EncodeToString(make([]byte, 32)), &log
	runIntakeFor(t, o)
	if !strings.Contains(log.String(), `"envelopes":"sealed to 1 or 2 recipients, as -statement lists"`) {
		t.Errorf("start line:\n%s\nwant the recipients of both statements", log.String())
	}
	if got := expectation(nil, 1); !strings.Contains(got, "one per identity") {
		t.Errorf("without -statement the start line says %q", got)
	}
	o.statement = in("old.statement") + "," + in("missing.statement")
	if _, err := o.expectedRecipients(); err == nil || !strings.Contains(err.Error(), "missing.statement") {
		t.Errorf("a missing second statement: %v; want it named", err)
	}
}

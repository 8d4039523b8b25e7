//go:build js && wasm

package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/reportline/reportline/statement"
)

// The browser's WebCrypto verifies the test vector with its key, and the
// form refuses every statement it must not seal to.
func TestVerifiedRecipients(t *testing.T) {
	text, err := os.ReadFile("../statement/testdata/de-hotline.statement")
	if err != nil {
		t.Fatal(err)
	}
	vk, err := os.ReadFile("../statement/testdata/verification.key")
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(vk))
	good := string(text)
	rc, err := verifiedRecipients(good, "de-hotline", trust{keys: []string{"", key, ""}})
	if err != nil || rc.Len() != 1 {
		t.Fatalf("the test vector did not verify: %v", err)
	}
	// Another key of the right form.
	other := key[:len(key)-2] + map[bool]string{true: "AA", false: "Ag"}[!strings.HasSuffix(key, "AA")]
	added := strings.Replace(good, "signature ", "recipient age1pq1addedbytherelay\nsignature ", 1)
	for _, tc := range []struct {
		name, text, hotline string
		trust               trust
		want                error
		says                string
	}{
		{"a recipient added", added, "de-hotline", trust{keys: []string{key}}, statement.ErrSignature, ""},
		{"another key", good, "de-hotline", trust{keys: []string{other}}, statement.ErrSignature, ""},
		{"another hotline's", good, "nl-hotline", trust{keys: []string{key}}, statement.ErrHotline, ""},
		{"rolled back", good, "de-hotline", trust{keys: []string{key}, minSerial: 8}, statement.ErrRollback, ""},
		{"malformed", strings.Replace(good, "serial 7", "serial 07", 1), "de-hotline", trust{keys: []string{key}}, statement.ErrMalformed, ""},
		{"no key", good, "de-hotline", trust{keys: []string{"", ""}}, nil, "data-hotline-key"},
		{"a key of another form", good, "de-hotline", trust{keys: []string{"hlvk_short"}}, nil, "data-hotline-key"},
		{"keys that differ", good, "de-hotline", trust{keys: []string{key, other}}, nil, "differ"},
		{"no statement", "", "de-hotline", trust{keys: []string{key}}, nil, "no key statement"},
	} {
		rc, err := verifiedRecipients(tc.text, tc.hotline, tc.trust)
		if rc != nil || err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v, %v; want %v saying %q", tc.name, rc, err, tc.want, tc.says)
		}
	}
}

// A key compiled in (wasmtrim -pin) is required: a snippet with another
// key makes the form refuse, and with none the compiled-in key serves.
func TestPinnedKey(t *testing.T) {
	text, _ := os.ReadFile("../statement/testdata/de-hotline.statement")
	vk, _ := os.ReadFile("../statement/testdata/verification.key")
	key := strings.TrimSpace(string(vk))
	defer func(k string) { pinnedKey = k }(pinnedKey)
	pinnedKey = key
	cfg, err := parseJSON(`{}`)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := readTrust(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifiedRecipients(string(text), "de-hotline", tr); err != nil {
		t.Errorf("with the compiled-in key alone: %v", err)
	}
	other := key[:len(key)-2] + "Ag"
	if other == key {
		other = key[:len(key)-2] + "AA"
	}
	tr.keys = append(tr.keys, other)
	if _, err := verifiedRecipients(string(text), "de-hotline", tr); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("a snippet key other than the compiled-in one: %v", err)
	}
}

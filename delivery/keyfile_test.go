package delivery_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/fuzzseed"
)

func TestParseKeyFile(t *testing.T) {
	for in, want := range map[string]string{
		"# comment\n# whpk_x\nwhsk_abc\n": "whsk_abc",
		"\ufeff  whsec_abc  \r\n":         "whsec_abc",
		"whsec_abc":                       "whsec_abc",
	} {
		if got, err := delivery.ParseKeyFile([]byte(in)); err != nil || got != want {
			t.Errorf("ParseKeyFile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "# only\n", "whsk_a\nwhsk_b\n", "whsec_a b", "\xff", strings.Repeat("#", 17<<10)} {
		_, err := delivery.ParseKeyFile([]byte(in))
		if !errors.Is(err, delivery.ErrKeyFile) {
			t.Errorf("ParseKeyFile(%.20q) = %v, want ErrKeyFile", in, err)
		}
		if err != nil && strings.Contains(err.Error(), "whsk_a") {
			t.Errorf("error shows key material: %v", err)
		}
	}
}

func TestReadKeyFileAndNewSigner(t *testing.T) {
	dir := t.TempDir()
	sk, pk, _ := delivery.GenerateEd25519()
	secret, _ := delivery.GenerateHMACSecret()
	for _, tt := range []struct{ key, verify string }{{sk, pk}, {secret, secret}} {
		p := filepath.Join(dir, "key")
		os.WriteFile(p, []byte("# a key\n"+tt.key+"\n"), 0o600)
		key, err := delivery.ReadKeyFile(p)
		if err != nil || key != tt.key {
			t.Fatalf("ReadKeyFile = %v", err)
		}
		s, err := delivery.NewSigner(key)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := delivery.NewVerifier(tt.verify)
		h := map[string][]string{}
		now := time.Now()
		if err := delivery.SetHeaders(h, s, "msg_1", now, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := v.Verify(h, []byte("{}"), now); err != nil {
			t.Errorf("signer from file does not verify: %v", err)
		}
	}
	if _, err := delivery.NewSigner(pk); !errors.Is(err, delivery.ErrMalformedKey) {
		t.Errorf("NewSigner took a public key: %v", err)
	}
	if _, err := delivery.ReadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseKeyFile(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := delivery.ParseKeyFile(b)
		if err != nil {
			if !errors.Is(err, delivery.ErrKeyFile) {
				t.Fatalf("error %v does not wrap ErrKeyFile", err)
			}
			return
		}
		if key == "" || strings.HasPrefix(key, "#") || strings.ContainsAny(key, " \t\r\n") {
			t.Fatalf("accepted key %q", key)
		}
		if !strings.Contains(string(b), key) {
			t.Fatalf("key %q is not in the file", key)
		}
	})
}

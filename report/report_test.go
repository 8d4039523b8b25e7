package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

var update = flag.Bool("update", false, "rewrite the test vectors in testdata/")

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func sample() *Report {
	return &Report{
		Version: Version,
		ID:      "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88",
		Hotline: "demo-hotline",
		Site:    "demo-site",
		Created: time.Date(2026, 11, 26, 11, 59, 30, 0, time.UTC),
		Locale:  "en",
		Locations: []Location{
			{Kind: "url", Value: "https://example.com/gallery/123"},
			{Kind: "onion", Value: "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstu.onion/x"},
			{Kind: "other", Value: "Chat app, user @someone"},
		},
		SeenOn:      "website",
		Content:     "image",
		Category:    "csam",
		SeenDate:    "2026-11-25",
		Description: "Gallery page linked from a forum thread — «ünïcode» too.",
	}
}

func readIdentity(t *testing.T, name string) age.Identity {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil || len(ids) != 1 {
		t.Fatalf("parse %s: %v", name, err)
	}
	return ids[0]
}

func recipientOf(t *testing.T, id age.Identity) string {
	switch k := id.(type) {
	case *age.HybridIdentity:
		return k.Recipient().String()
	case *age.X25519Identity:
		return k.Recipient().String()
	}
	t.Fatalf("unexpected identity %T", id)
	return ""
}

// TestVectors opens the sealed reports in testdata/ with the fixed
// identities there and checks they open to testdata/report.json. With
// -update it seals new vectors first.
func TestVectors(t *testing.T) {
	for _, kind := range []string{"hybrid", "x25519"} {
		t.Run(kind, func(t *testing.T) {
			id := readIdentity(t, kind+".key")
			sealedPath := filepath.Join("testdata", kind+".age")
			if *update {
				rcpts, err := ParseRecipients([]string{recipientOf(t, id)})
				if err != nil {
					t.Fatal(err)
				}
				sealed, err := Seal(sample(), rcpts)
				if err != nil {
					t.Fatal(err)
				}
				js, _ := Marshal(sample())
				os.WriteFile(filepath.Join("testdata", "report.json"), append(js, '\n'), 0o644)
				os.WriteFile(sealedPath, sealed, 0o644)
			}
			sealed, err := os.ReadFile(sealedPath)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			r, plain, err := Open(sealed, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.TrimRight(plain, " \n"); !bytes.Equal(got, bytes.TrimSpace(want)) {
				t.Errorf("plaintext = %s\nwant %s", got, want)
			}
			if len(plain) != Buckets[0] {
				t.Errorf("plaintext is %d bytes, want padded to %d", len(plain), Buckets[0])
			}
			if err := Validate(DefaultForm(), r, now); err != nil {
				t.Errorf("vector does not validate: %v", err)
			}
			k := KindHybrid
			if kind == "x25519" {
				k = KindX25519
			}
			if err := CheckEnvelope(sealed, k, 1); err != nil {
				t.Errorf("CheckEnvelope: %v", err)
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	a, _ := age.GenerateHybridIdentity()
	b, _ := age.GenerateHybridIdentity()
	rcpts, err := ParseRecipients([]string{a.Recipient().String(), b.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	in := sample()
	in.Description = strings.Repeat("x", 4500) // crosses into the 8 KiB bucket
	sealed, err := Seal(in, rcpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckEnvelope(sealed, KindHybrid, 2); err != nil {
		t.Fatalf("CheckEnvelope: %v", err)
	}
	for _, id := range []age.Identity{a, b} {
		r, plain, err := Open(sealed, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) != 8<<10 {
			t.Errorf("padded to %d, want %d", len(plain), 8<<10)
		}
		if r.Description != in.Description || r.ID != in.ID || !r.Created.Equal(in.Created) {
			t.Errorf("opened report differs: %+v", r)
		}
	}
	other, _ := age.GenerateHybridIdentity()
	if _, _, err := Open(sealed, other); !errors.As(err, new(*age.NoIdentityMatchError)) {
		t.Errorf("Open with a stranger's key: err = %v, want NoIdentityMatchError", err)
	}
}

func TestParseRecipients(t *testing.T) {
	h, _ := age.GenerateHybridIdentity()
	x, _ := age.GenerateX25519Identity()
	tests := []struct {
		name    string
		keys    []string
		kind    string
		wantErr string
	}{
		{"hybrid", []string{h.Recipient().String()}, KindHybrid, ""},
		{"classic", []string{x.Recipient().String()}, KindX25519, ""},
		{"none", nil, "", "no recipients"},
		{"mixed", []string{h.Recipient().String(), x.Recipient().String()}, "", "of one kind"},
		{"garbage", []string{"ssh-ed25519 AAAA"}, "", "not an age public key"},
		{"bad checksum", []string{x.Recipient().String()[:50] + "qqqqqqqqq"}, "", "recipient #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRecipients(tt.keys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.Kind() != tt.kind {
				t.Fatalf("got %v, %v; want kind %s", r, err, tt.kind)
			}
		})
	}
}

func TestCheckEnvelopeRejects(t *testing.T) {
	h, _ := age.GenerateHybridIdentity()
	x, _ := age.GenerateX25519Identity()
	hr, _ := ParseRecipients([]string{h.Recipient().String()})
	xr, _ := ParseRecipients([]string{x.Recipient().String()})
	good, err := Seal(sample(), hr)
	if err != nil {
		t.Fatal(err)
	}
	classic, _ := Seal(sample(), xr)
	var unpadded bytes.Buffer
	w, _ := age.Encrypt(&unpadded, h.Recipient())
	w.Write([]byte(`{"version":1}`))
	w.Close()
	var scrypt bytes.Buffer
	sr, _ := age.NewScryptRecipient("pw")
	sr.SetWorkFactor(10)
	w, _ = age.Encrypt(&scrypt, sr)
	w.Write(make([]byte, 4096))
	w.Close()

	tests := []struct {
		name string
		body []byte
		kind string
		n    int
		want string
	}{
		{"empty", nil, KindHybrid, 1, "header"},
		{"garbage", []byte("hello world"), KindHybrid, 1, "header"},
		{"truncated header", good[:100], KindHybrid, 1, "header"},
		{"truncated payload", good[:len(good)-1], KindHybrid, 1, "not a padded report"},
		{"extra byte", append(bytes.Clone(good), 0), KindHybrid, 1, "not a padded report"},
		{"wrong kind", classic, KindHybrid, 1, "type"},
		{"too few recipients", good, KindHybrid, 2, "sealed to 1 recipients"},
		{"unpadded", unpadded.Bytes(), KindHybrid, 1, "not a padded report"},
		{"scrypt", scrypt.Bytes(), KindX25519, 1, "type"},
		{"armored", []byte("-----BEGIN AGE ENCRYPTED FILE-----\n"), KindHybrid, 1, "header"},
		{"oversized", make([]byte, MaxEnvelope+1), KindHybrid, 1, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEnvelope(tt.body, tt.kind, tt.n)
			if !errors.Is(err, ErrEnvelope) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrEnvelope containing %q", err, tt.want)
			}
		})
	}
}

func TestPad(t *testing.T) {
	for _, n := range []int{0, 1, 4095, 4096, 8191, 65535} {
		p, err := Pad(bytes.Repeat([]byte("a"), n))
		if err != nil {
			t.Fatalf("Pad(%d): %v", n, err)
		}
		want := 0
		for _, b := range Buckets {
			if n+1 <= b {
				want = b
				break
			}
		}
		if len(p) != want {
			t.Errorf("Pad(%d) = %d bytes, want %d", n, len(p), want)
		}
	}
	if _, err := Pad(make([]byte, MaxPlaintext)); err == nil {
		t.Error("Pad accepted a report larger than the largest bucket")
	}
}

func TestParse(t *testing.T) {
	r := sample()
	r.Minor, r.Urgent = Minor, "yes"
	good, _ := Marshal(r)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"padded", string(good) + "\n    ", ""},
		{"unknown field", strings.Replace(string(good), `"version":1`, `"version":1,"ip":"x"`, 1), "unknown field"},
		{"version 2", strings.Replace(string(good), `"version":1`, `"version":2`, 1), "version 2"},
		{"version 1.0", strings.Replace(string(good), `,"minor":1`, ``, 1), ""},
		{"version 1.1", string(good), ""},
		{"version 1.2", strings.Replace(string(good), `"minor":1`, `"minor":2`, 1), "version 1.2, this software reads up to 1.1"},
		{"trailing data", string(good) + "{}", "after the report"},
		{"not json", "hello", "invalid character"},
		{"empty", "", "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrMalformed containing %q", err, tt.want)
			}
		})
	}
}

func TestReference(t *testing.T) {
	if got := Reference("3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"); got != "3F2A-91C0-77DE" {
		t.Errorf("Reference = %q", got)
	}
}

package relay

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/reportline/reportline/relay/config"
)

// TestPublicURLWithTrailingSlash: a relay configured with
// public_url = "http://127.0.0.1:8081/" takes reports from its own frame,
// whose browser sends Origin: http://127.0.0.1:8081, and names frame URLs
// without a doubled slash.
func TestPublicURLWithTrailingSlash(t *testing.T) {
	f := newFixture(t)
	withSlash := strings.Replace(fixtureConfig("x", f.id.Recipient().String(), testAbuse),
		`public_url = "http://127.0.0.1:8081"`, `public_url = "http://127.0.0.1:8081/"`, 1)
	if !strings.Contains(withSlash, `public_url = "http://127.0.0.1:8081/"`) {
		t.Fatalf("the fixture's public_url is not the one this test changes:\n%s", withSlash)
	}
	cfg, err := config.Parse([]byte(withSlash))
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetConfig(cfg)
	id, body := f.sealed(t)
	rec := post(f.srv, "/v1/sites/s1/reports/"+id, body, "Origin", "http://127.0.0.1:8081", HeaderProof, f.proof(t, "s1"))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("a report from the frame, public_url with a trailing slash: %d %s", rec.Code, rec.Body)
	}
	if rec := getWith(f.srv, "GET", "/v1/sites/s1/challenge", "Origin", "http://127.0.0.1:8081"); rec.Code != http.StatusOK {
		t.Fatalf("a challenge for the frame: %d %s", rec.Code, rec.Body)
	}
	rec = getWith(f.srv, "GET", "/v1/sites/s1/embed", "Origin", "https://partner.example")
	var ec EmbedConfig
	if err := json.Unmarshal(rec.Body.Bytes(), &ec); err != nil || ec.Frame != "http://127.0.0.1:8081/w/s1" {
		t.Fatalf("embed settings: frame %q (%v), want http://127.0.0.1:8081/w/s1", ec.Frame, err)
	}
}

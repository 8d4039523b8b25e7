package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/reportline/reportline/relay/config"
)

// frameHostedConfig is a relay whose hotline h1 hosts its frame at
// https://frame.hotline.example, and whose hotline h2 does not.
func frameHostedConfig(t *testing.T, f *fixture) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
[relay]
public_url = "https://relay.example"
spool = "x"
assets = "x"
signing_key_file = "k"
[[hotline]]
id = "h1"
intake_url = "http://127.0.0.1:9/"
recipients = [%[1]q]
frame_origin = "https://frame.hotline.example"
[[hotline]]
id = "h2"
intake_url = "http://127.0.0.1:9/"
recipients = [%[1]q]
[[site]]
id = "s1"
hotline = "h1"
origins = ["https://partner.example"]
[[site]]
id = "s2"
hotline = "h2"
origins = ["https://partner.example"]
%[2]s`, f.id.Recipient().String(), testAbuse)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFrameOriginCORS: with hotline.frame_origin, the frame the hotline
// hosts gets a challenge and sends a report across origins: its preflights
// are answered for that origin and method only, and every answer to it is
// readable by it, with the Date and Retry-After headers the form reads.
// Another origin, or a hotline without frame_origin, gets no CORS at all.
func TestFrameOriginCORS(t *testing.T) {
	f := newFixture(t)
	f.srv.SetConfig(frameHostedConfig(t, f))
	const fo = "https://frame.hotline.example"

	pre := func(path, origin, method string) *http.Response {
		rec := getWith(f.srv, "OPTIONS", path, "Origin", origin, "Access-Control-Request-Method", method,
			"Access-Control-Request-Headers", "content-type, report-pow")
		return rec.Result()
	}
	for _, c := range []struct{ path, method string }{
		{"/v1/sites/s1/challenge", "GET"},
		{"/v1/sites/s1/reports/0b6c6d4e-9c41-4b8e-9d3a-0f3c1b2a7e10", "POST"},
		{"/v1/sites/s1/mailbox", "POST"},
	} {
		resp := pre(c.path, fo, c.method)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != fo ||
			h.Get("Access-Control-Allow-Methods") != c.method || !strings.Contains(h.Get("Access-Control-Allow-Headers"), HeaderProof) ||
			h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s %s from the hotline's frame: %d %v", c.method, c.path, resp.StatusCode, h)
		}
		for _, bad := range []struct{ origin, method, path string }{
			{"https://relay.example", c.method, c.path},
			{"https://evil.example", c.method, c.path},
			{fo, "DELETE", c.path},
			{fo, c.method, strings.Replace(c.path, "/s1/", "/s2/", 1)},
		} {
			resp := pre(bad.path, bad.origin, bad.method)
			if resp.StatusCode < 400 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight %s %s from %s: %d %v, want a refusal without CORS", bad.method, bad.path, bad.origin, resp.StatusCode, resp.Header)
			}
		}
	}

	rec := getWith(f.srv, "GET", "/v1/sites/s1/challenge", "Origin", fo)
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != fo ||
		!strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "Date") {
		t.Fatalf("a challenge for the hotline's frame: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	id, body := f.sealed(t)
	rec = post(f.srv, "/v1/sites/s1/reports/"+id, body, "Origin", fo, HeaderProof, f.proof(t, "s1"))
	if rec.Code != http.StatusAccepted || rec.Header().Get("Access-Control-Allow-Origin") != fo {
		t.Fatalf("a report from the hotline's frame: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	// A refusal is readable too, so that the form can say why.
	rec = post(f.srv, "/v1/sites/s1/reports/"+id+"x", body, "Origin", fo)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Access-Control-Allow-Origin") != fo {
		t.Errorf("a refused report from the hotline's frame: %d %v", rec.Code, rec.Header())
	}
	// The relay's own frame still works, without CORS.
	rec = getWith(f.srv, "GET", "/v1/sites/s1/challenge", "Origin", "https://relay.example")
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a challenge for the relay's frame: %d %v", rec.Code, rec.Header())
	}
	// Another origin is refused, and gets no CORS.
	for _, site := range []string{"s1", "s2"} {
		origin := "https://evil.example"
		if site == "s2" {
			origin = fo // s2's hotline hosts no frame
		}
		rec = getWith(f.srv, "GET", "/v1/sites/"+site+"/challenge", "Origin", origin)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("a challenge for %s from %s: %d %v", site, origin, rec.Code, rec.Header())
		}
		id, body := f.sealed(t)
		rec = post(f.srv, "/v1/sites/"+site+"/reports/"+id, body, "Origin", origin, HeaderProof, f.proof(t, site))
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("a report for %s from %s: %d %v", site, origin, rec.Code, rec.Header())
		}
	}
}

// TestFrameOriginRelayFrameRefused: the relay does not serve its own frame
// for a hotline that hosts the frame itself, and says where the frame is;
// another hotline's sites still get the relay's frame.
func TestFrameOriginRelayFrameRefused(t *testing.T) {
	f := newFixture(t)
	f.srv.SetConfig(frameHostedConfig(t, f))
	rec := getWith(f.srv, "GET", "/w/s1?o=https://partner.example", "Accept", "text/html")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "https://frame.hotline.example") ||
		strings.Contains(rec.Body.String(), "rl-config") {
		t.Errorf("the relay's frame for a hotline that hosts its own: %d %s", rec.Code, rec.Body)
	}
	rec = getWith(f.srv, "GET", "/v1/sites/s1/embed", "Origin", "https://partner.example")
	var ec EmbedConfig
	if err := json.Unmarshal(rec.Body.Bytes(), &ec); err != nil || ec.Frame != "https://frame.hotline.example" {
		t.Errorf("embed settings: frame %q (%v), want the hotline's frame origin", ec.Frame, err)
	}
	rec = getWith(f.srv, "GET", "/w/s2?o=https://partner.example", "Accept", "text/html")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "rl-config") {
		t.Errorf("the relay's frame for another hotline: %d", rec.Code)
	}
}

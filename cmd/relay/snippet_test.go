package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// relay snippet prints a snippet whose loader URL the running relay serves
// immutable, with CORS, and whose integrity value is that of the bytes
// served: what a browser checks before it runs a pinned loader.
func TestSnippetPinsTheLoader(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	var out bytes.Buffer
	if err := snippet(&out, []string{"-site", "s1", s.cfgPath}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`src="http://127\.0\.0\.1:8081(/a/embed\.[0-9a-f]{12}\.js)" integrity="(sha384-[A-Za-z0-9+/=]+)" crossorigin="anonymous"`).
		FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), `data-site="s1"`) || !strings.Contains(out.String(), "data-hotline-key=") {
		t.Fatalf("snippet:\n%s", out.String())
	}
	r := start(t, s)
	resp, err := http.Get("http://" + r.addr("http") + m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := sha512.Sum384(body)
	if got := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); resp.StatusCode != 200 || got != m[2] {
		t.Fatalf("the pinned loader: status %d, integrity %s, want %s", resp.StatusCode, got, m[2])
	}
	if h := resp.Header; h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Errorf("the pinned loader's headers: %v", h)
	}
	// The loader at /embed.js is the same bytes.
	resp2, err := http.Get("http://" + r.addr("http") + "/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if b, _ := io.ReadAll(resp2.Body); !bytes.Equal(b, body) {
		t.Error("/embed.js and the pinned loader differ")
	}
	if err := snippet(io.Discard, []string{"-site", "nope", s.cfgPath}); err == nil || !strings.Contains(err.Error(), `no [[site]] with id "nope"`) {
		t.Errorf("an unknown site: %v", err)
	}
}

// Without a configuration, relay snippet prints the snippet of the build
// in -assets, as `make build` does: the same pinned loader and integrity
// value a relay serving that build gives, with placeholders for what only
// a configuration knows, and data-frame where a frame address is given.
func TestSnippetFromTheBuild(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	var withConfig, fromBuild bytes.Buffer
	if err := snippet(&withConfig, []string{"-site", "s1", s.cfgPath}); err != nil {
		t.Fatal(err)
	}
	assetsDir := filepath.Join(filepath.Dir(s.cfgPath), "assets")
	if err := snippet(&fromBuild, []string{"-assets", assetsDir, "-frame", "https://frame.hotline.example/"}); err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`/a/embed\.[0-9a-f]{12}\.js" integrity="sha384-[A-Za-z0-9+/=]+" crossorigin="anonymous"`)
	want := pinned.FindString(withConfig.String())
	out := fromBuild.String()
	if want == "" || pinned.FindString(out) != want {
		t.Fatalf("the build's snippet:\n%s\nthe relay's:\n%s", out, withConfig.String())
	}
	for _, part := range []string{`src="https://RELAY/a/embed.`, `data-site="YOUR-SITE-ID"`, `data-frame="https://frame.hotline.example/"`} {
		if !strings.Contains(out, part) {
			t.Errorf("the build's snippet lacks %s:\n%s", part, out)
		}
	}
	if err := snippet(io.Discard, []string{"-assets", assetsDir, "-frame", "javascript:alert(1)"}); err == nil || !strings.Contains(err.Error(), "not an http(s) address") {
		t.Errorf("a frame address that is not http(s): %v", err)
	}
	if err := snippet(io.Discard, nil); err == nil || !strings.Contains(err.Error(), "usage:") {
		t.Errorf("no configuration and no -assets: %v", err)
	}
}

// check-config says where a hotline that hosts its frame has it, and
// refuses a frame origin that is not one, naming the key.
func TestCheckConfigFrameOrigin(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	b, err := os.ReadFile(s.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	withOrigin := func(origin string) {
		cfg := strings.Replace(string(b), `languages = ["de", "en"]`, `languages = ["de", "en"]`+"\nframe_origin = \""+origin+"\"", 1)
		if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withOrigin("https://Frame.hotline.example/")
	var out bytes.Buffer
	if err := checkConfig(&out, []string{s.cfgPath}); err != nil {
		t.Fatal(err)
	}
	if want := "report frame served by the hotline at https://frame.hotline.example"; !strings.Contains(out.String(), want) {
		t.Errorf("check-config output lacks %q:\n%s", want, out.String())
	}
	withOrigin("http://frame.hotline.example")
	if err := checkConfig(io.Discard, []string{s.cfgPath}); err == nil || !strings.Contains(err.Error(), `hotline[0].frame_origin: "http://frame.hotline.example" is plain http`) {
		t.Errorf("check-config of a plain-http frame origin: %v", err)
	}
}

// relay snippet takes its configuration as every other relay command
// does: -config FILE, or RELAY_CONFIG, as well as the file named last;
// and it reads from it where the site's hotline serves its frame, so that
// it never prints a snippet whose frame the relay would refuse.
func TestSnippetConfigFlag(t *testing.T) {
	s := newSetup(t)
	s.write(t, "", "")
	var want bytes.Buffer
	if err := snippet(&want, []string{"-site", "s1", s.cfgPath}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := snippet(&out, []string{"-config", s.cfgPath, "-site", "s1"}); err != nil || out.String() != want.String() {
		t.Errorf("with -config: %v\n%s\nwant\n%s", err, out.String(), want.String())
	}
	t.Setenv("RELAY_CONFIG", s.cfgPath)
	out.Reset()
	if err := snippet(&out, []string{"-site", "s1"}); err != nil || out.String() != want.String() {
		t.Errorf("with RELAY_CONFIG: %v\n%s\nwant\n%s", err, out.String(), want.String())
	}
	// -assets without a configuration named is still the build's snippet,
	// whatever RELAY_CONFIG says: what `make build` prints.
	out.Reset()
	if err := snippet(&out, []string{"-assets", filepath.Join(s.dir, "assets")}); err != nil || !strings.Contains(out.String(), `data-site="YOUR-SITE-ID"`) {
		t.Errorf("the build's snippet with RELAY_CONFIG set: %v\n%s", err, out.String())
	}
	t.Setenv("RELAY_CONFIG", "")
	if err := snippet(io.Discard, []string{"-config", s.cfgPath, "-site", "s1", s.cfgPath}); err == nil || !strings.Contains(err.Error(), "usage:") {
		t.Errorf("both -config and a file: %v", err)
	}
	var h hint
	if err := snippet(io.Discard, []string{"-config", filepath.Join(s.dir, "missing.toml"), "-site", "s1"}); !errors.As(err, &h) || !strings.Contains(h.hint, "relay init") {
		t.Errorf("a missing configuration: %v", err)
	}
	// The README's placeholder left in: the hint names the sites there are.
	if err := snippet(io.Discard, []string{"-config", s.cfgPath, "-site", "YOUR-SITE-ID"}); !errors.As(err, &h) || !strings.Contains(h.hint, "s1") {
		t.Errorf("a site the configuration does not have: %v; want a hint naming s1", err)
	}

	// A frame the hotline hosts.
	if err := snippet(io.Discard, []string{"-config", s.cfgPath, "-site", "s1", "-frame", "https://report.hotline.example/"}); err == nil ||
		!strings.Contains(err.Error(), "frame_origin") {
		t.Errorf("-frame for a hotline without frame_origin: %v", err)
	}
	b, err := os.ReadFile(s.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	withOrigin := strings.Replace(string(b), `languages = ["de", "en"]`, `languages = ["de", "en"]`+"\nframe_origin = \"https://report.hotline.example\"", 1)
	s.writeConfig(t, withOrigin)
	out.Reset()
	if err := snippet(&out, []string{"-config", s.cfgPath, "-site", "s1"}); err != nil ||
		!strings.Contains(out.String(), `data-frame="https://report.hotline.example/… (from the hotline itself)"`) {
		t.Errorf("without -frame, for a hotline that hosts its frame: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := snippet(&out, []string{"-config", s.cfgPath, "-site", "s1", "-frame", "https://report.hotline.example/frame-2026-12/"}); err != nil ||
		!strings.Contains(out.String(), `data-frame="https://report.hotline.example/frame-2026-12/"`) {
		t.Errorf("-frame at the hotline's frame_origin: %v\n%s", err, out.String())
	}
	if err := snippet(io.Discard, []string{"-config", s.cfgPath, "-site", "s1", "-frame", "https://elsewhere.example/"}); err == nil ||
		!strings.Contains(err.Error(), "https://report.hotline.example") {
		t.Errorf("-frame at another origin than frame_origin: %v", err)
	}
}

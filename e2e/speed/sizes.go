package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// client makes the size requests. Its transport neither asks for nor
// decodes compression by itself: each request says what it accepts.
var client = &http.Client{
	Timeout:   20 * time.Second,
	Transport: &http.Transport{DisableCompression: true, Proxy: nil},
}

// transfer is one GET's body as it went over the wire.
type transfer struct {
	encoding string // Content-Encoding; "" for none
	bytes    int
	body     []byte
}

// get fetches u accepting only the encoding enc ("br", "gzip" or
// "identity") and returns the body as sent.
func get(ctx context.Context, u, enc string) (transfer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return transfer{}, err
	}
	req.Header.Set("Accept-Encoding", enc)
	resp, err := client.Do(req)
	if err != nil {
		return transfer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return transfer{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return transfer{}, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	got := resp.Header.Get("Content-Encoding")
	if want := enc; want != "identity" && !strings.Contains(want, ",") && got != want {
		return transfer{}, fmt.Errorf("GET %s with Accept-Encoding: %s came back with Content-Encoding %q", u, enc, got)
	}
	return transfer{encoding: got, bytes: len(b), body: b}, nil
}

// sizes are the transfer sizes of items 1 and 5.
type sizes struct {
	embedBr, embedGz, embedRaw    int
	moduleBr, moduleGz, moduleRaw int
	modulePath                    string
	framePage                     int // the frame's page, uncompressed
}

var configRE = regexp.MustCompile(`(?s)<script type="application/json" id="rl-config">(.*?)</script>`)

// measureSizes fetches embed.js and the module the frame's page names.
func measureSizes(ctx context.Context, relayURL, partnerURL string) (sizes, error) {
	var s sizes
	for _, e := range []struct {
		enc string
		n   *int
	}{{"br", &s.embedBr}, {"gzip", &s.embedGz}, {"identity", &s.embedRaw}} {
		t, err := get(ctx, relayURL+"/embed.js", e.enc)
		if err != nil {
			return s, err
		}
		*e.n = t.bytes
	}
	parent, _ := url.Parse(partnerURL)
	page := relayURL + "/w/demo-site?o=" + url.QueryEscape(parent.Scheme+"://"+parent.Host) + "&l=" + url.QueryEscape("en-US,en")
	// The page's own size, which the baseline page copies; the relay sends
	// it compressed to browsers, which only helps it against the baseline.
	t, err := get(ctx, page, "identity")
	if err != nil {
		return s, err
	}
	s.framePage = t.bytes
	m := configRE.FindSubmatch(t.body)
	if m == nil {
		return s, errors.New("the frame's page has no rl-config")
	}
	var cfg struct {
		Module string `json:"module"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &cfg); err != nil {
		if err2 := json.Unmarshal(m[1], &cfg); err2 != nil {
			return s, fmt.Errorf("failed to read rl-config: %w", err)
		}
	}
	if cfg.Module == "" {
		return s, errors.New("rl-config names no module")
	}
	s.modulePath = cfg.Module
	for _, e := range []struct {
		enc string
		n   *int
	}{{"br", &s.moduleBr}, {"gzip", &s.moduleGz}, {"identity", &s.moduleRaw}} {
		t, err := get(ctx, relayURL+cfg.Module, e.enc)
		if err != nil {
			return s, err
		}
		*e.n = t.bytes
	}
	return s, nil
}

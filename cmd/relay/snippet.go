package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/web/assets"
)

// snippet prints a site's embed snippet with the loader pinned: its
// hashed, immutable URL and its integrity value, as this relay's build
// serves it. The hotline's key is left for the partner to fill in from the
// hotline itself: the relay's copy is not the one to trust. So is the
// address of a frame the hotline hosts, unless -frame gives it; either way
// it must be at the hotline's frame_origin, or the relay would refuse the
// frame's reports.
//
// It reads the configuration as the other commands do: the file named
// last, or -config, RELAY_CONFIG, relay.toml. Given -assets and neither a
// file nor -config, it prints the snippet of the build in -assets instead,
// with -public-url and -site where given and placeholders where not: what
// `make build` prints.
func snippet(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("snippet", flag.ContinueOnError)
	cf := addConfigFlags(fs, true)
	site := fs.String("site", "", "the site id to write the snippet for")
	frameURL := fs.String("frame", "", "the `URL` of the frame the hotline hosts (hotline publish), for data-frame")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var frame *url.URL
	if *frameURL != "" {
		if frame, err = url.Parse(*frameURL); err != nil || (frame.Scheme != "https" && frame.Scheme != "http") || frame.Host == "" {
			return fmt.Errorf("-frame %q is not an http(s) address: give the address of the hotline's published frame, as https://frame.hotline.example/", *frameURL)
		}
	}
	configSet := false
	fs.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
	publicURL, assetsDir := *cf.values["relay.public_url"], *cf.values["relay.assets"]
	frameAttr := *frameURL
	switch {
	case len(pos) > 1 || len(pos) == 1 && configSet:
		return errors.New(snippetUsage)
	case len(pos) == 0 && !configSet && assetsDir != "":
		if publicURL == "" {
			publicURL = "https://RELAY"
		}
		if *site == "" {
			*site = "YOUR-SITE-ID"
		}
	default:
		if *site == "" {
			return errors.New(snippetUsage)
		}
		path := *cf.path
		if len(pos) == 1 {
			path = pos[0]
		}
		cfg, err := config.Load(path, cf.overrides()...)
		if errors.Is(err, os.ErrNotExist) {
			return hint{err, noConfigHint}
		}
		if err != nil {
			return err
		}
		st := cfg.Site(*site)
		if st == nil {
			var ids []string
			for _, s := range cfg.Sites {
				ids = append(ids, s.ID)
			}
			return hint{fmt.Errorf("no [[site]] with id %q in %s", *site, path),
				"its sites are " + strings.Join(ids, ", ") + "; register a new one with a [[site]] table (docs/config.md)"}
		}
		if frameAttr, err = siteFrame(cfg.Hotline(st.Hotline), frame); err != nil {
			return err
		}
		publicURL, assetsDir = cfg.Relay.PublicURL, cfg.Relay.Assets
	}
	set, err := assets.Load(assetsDir)
	if err != nil {
		return err
	}
	path, integrity := set.PinnedLoader()
	if frameAttr != "" {
		frameAttr = fmt.Sprintf("\n        data-frame=%q", frameAttr)
	}
	fmt.Fprintf(stdout, "<script async src=\"%s%s\" integrity=\"%s\" crossorigin=\"anonymous\" referrerpolicy=\"no-referrer\"\n"+
		"        data-site=\"%s\" data-hotline-key=\"hlvk_… (from the hotline itself)\"%s></script>\n",
		publicURL, path, integrity, *site, frameAttr)
	return nil
}

const snippetUsage = "usage: relay snippet -site ID [-frame URL] [-config FILE | FILE], " +
	"or relay snippet -assets DIR [-public-url URL] [-site ID] [-frame URL]"

// siteFrame returns the data-frame of a snippet for a site of hotline h,
// given -frame (nil if not): none for a hotline whose frame the relay
// serves, and for one that hosts its own an address at its frame_origin,
// or a placeholder there for the one the hotline gives out.
func siteFrame(h *config.Hotline, frame *url.URL) (string, error) {
	switch {
	case h.FrameOrigin == "" && frame != nil:
		return "", hint{fmt.Errorf("-frame %s: hotline %q has no frame_origin, so the relay would refuse the reports of a frame there", frame, h.ID),
			"set frame_origin in its [[hotline]] (docs/deployment.md#a-frame-the-hotline-hosts), or leave -frame out for the frame the relay serves"}
	case h.FrameOrigin == "":
		return "", nil
	case frame == nil:
		return h.FrameOrigin + "/… (from the hotline itself)", nil
	case originOf(frame) != h.FrameOrigin:
		return "", fmt.Errorf("-frame %s is not at hotline %q's frame_origin %s, so the relay would refuse its reports: give the address the hotline gives out", frame, h.ID, h.FrameOrigin)
	}
	return frame.String(), nil
}

// originOf is the origin of an http(s) address as a browser sends it in
// Origin, as the relay's configuration writes frame_origin.
func originOf(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/web/assets"
)

// snippet prints a site's embed snippet with the loader pinned: its
// hashed, immutable URL and its integrity value, as this relay's build
// serves it. The hotline's key is left for the partner to fill in from the
// hotline itself: the relay's copy is not the one to trust.
//
// Without a configuration file it prints the snippet of the build in
// -assets, with -public-url and -site where given and placeholders where
// not: what `make build` prints.
func snippet(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("snippet", flag.ContinueOnError)
	cf := addConfigFlags(fs, false)
	site := fs.String("site", "", "the site id to write the snippet for")
	frameURL := fs.String("frame", "", "the address of the frame the hotline hosts (`hotline publish`), for data-frame")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *frameURL != "" {
		if u, err := url.Parse(*frameURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("-frame %q is not an http(s) address: give the address of the hotline's published frame, as https://frame.hotline.example/", *frameURL)
		}
	}
	publicURL, assetsDir := *cf.values["relay.public_url"], *cf.values["relay.assets"]
	switch {
	case len(pos) == 1:
		if *site == "" {
			return errors.New("usage: relay snippet -site ID [-frame URL] relay.toml")
		}
		cfg, err := config.Load(pos[0], cf.overrides()...)
		if err != nil {
			return err
		}
		if cfg.Site(*site) == nil {
			return fmt.Errorf("no [[site]] with id %q in %s", *site, pos[0])
		}
		publicURL, assetsDir = cfg.Relay.PublicURL, cfg.Relay.Assets
	case len(pos) == 0 && assetsDir != "":
		if publicURL == "" {
			publicURL = "https://RELAY"
		}
		if *site == "" {
			*site = "YOUR-SITE-ID"
		}
	default:
		return errors.New("usage: relay snippet -site ID [-frame URL] relay.toml, or relay snippet -assets DIR [-public-url URL] [-site ID] [-frame URL]")
	}
	set, err := assets.Load(assetsDir)
	if err != nil {
		return err
	}
	path, integrity := set.PinnedLoader()
	frameAttr := ""
	if *frameURL != "" {
		frameAttr = fmt.Sprintf("\n        data-frame=%q", *frameURL)
	}
	fmt.Fprintf(stdout, "<script async src=\"%s%s\" integrity=\"%s\" crossorigin=\"anonymous\" referrerpolicy=\"no-referrer\"\n"+
		"        data-site=\"%s\" data-hotline-key=\"hlvk_… (from the hotline itself)\"%s></script>\n",
		publicURL, path, integrity, *site, frameAttr)
	return nil
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/web/assets"
)

// snippet prints a site's embed snippet with the loader pinned: its
// hashed, immutable URL and its integrity value, as this relay's build
// serves it. The hotline's key is left for the partner to fill in from the
// hotline itself: the relay's copy is not the one to trust.
func snippet(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("snippet", flag.ContinueOnError)
	cf := addConfigFlags(fs, false)
	site := fs.String("site", "", "the site id to write the snippet for")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *site == "" {
		return errors.New("usage: relay snippet -site ID relay.toml")
	}
	cfg, err := config.Load(pos[0], cf.overrides()...)
	if err != nil {
		return err
	}
	if cfg.Site(*site) == nil {
		return fmt.Errorf("no [[site]] with id %q in %s", *site, pos[0])
	}
	set, err := assets.Load(cfg.Relay.Assets)
	if err != nil {
		return err
	}
	path, integrity := set.PinnedLoader()
	fmt.Fprintf(stdout, "<script async src=\"%s%s\" integrity=\"%s\" crossorigin=\"anonymous\" referrerpolicy=\"no-referrer\"\n"+
		"        data-site=\"%s\" data-hotline-key=\"hlvk_… (from the hotline itself)\"></script>\n",
		cfg.Relay.PublicURL, path, integrity, *site)
	return nil
}

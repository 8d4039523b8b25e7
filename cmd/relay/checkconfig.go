package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/web/assets"
)

// checkConfig validates a configuration as `relay serve` would read it,
// with the same flags and environment variables, and reads every file it
// names (keys, secrets, certificates), so that a relay that passes it
// starts.
func checkConfig(stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	cf := addConfigFlags(fs, true)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	// The file relay serve would read: the one named, or -config,
	// RELAY_CONFIG, relay.toml.
	path := *cf.path
	configSet := false
	fs.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
	switch {
	case len(pos) == 1 && !configSet:
		path = pos[0]
	case len(pos) != 0:
		return errors.New("usage: relay check-config [flags] [FILE | -config FILE]")
	}
	cfg, err := config.Load(path, cf.overrides()...)
	if errors.Is(err, os.ErrNotExist) {
		return hint{err, noConfigHint}
	}
	if err != nil {
		return err
	}
	if _, err := endpoints(cfg); err != nil {
		return err
	}
	if cfg.Relay.Assets != "" {
		if err := assets.CheckBuilt(cfg.Relay.Assets); err != nil {
			return fmt.Errorf("config: relay.assets: %w", err)
		}
	}
	if err := checkStatePaths(cfg); err != nil {
		return err
	}
	if cfg.Relay.TLS.Enabled() && !cfg.Relay.TLS.ACME {
		if err := (&certFiles{certFile: cfg.Relay.TLS.CertFile, keyFile: cfg.Relay.TLS.KeyFile}).load(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%s, %s)\n", path, count(len(cfg.Hotlines), "hotline"), count(len(cfg.Sites), "site"))
	over := cfg.Overridden()
	keys := make([]string, 0, len(over))
	for k := range over {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %s set by %s\n", k, over[k])
	}
	fmt.Fprintf(stdout, "  %s\n", powSummary(&cfg.Relay.PoW, time.Now()))
	if w := listenMismatch(&cfg.Relay); w != "" {
		fmt.Fprintf(stdout, "  warning: %s\n", w)
	}
	for _, h := range cfg.Hotlines {
		extra := []string{"signature " + h.Signature, fmt.Sprintf("concurrency %d", h.Concurrency)}
		if h.ClientCertFile != "" {
			extra = append(extra, "mutual TLS")
		}
		fmt.Fprintf(stdout, "  hotline %s → %s (%s)\n", h.ID, h.IntakeURL, strings.Join(extra, ", "))
		if st := h.KeyStatement(); st != nil {
			fmt.Fprintf(stdout, "    key statement serial %d, %d recipients, signed by %s, valid until %s (%d days left)\n",
				st.Serial, len(st.Recipients), h.StatementKey, st.ValidUntil.Format(time.RFC3339), int(time.Until(st.ValidUntil).Hours()/24))
			if time.Until(st.ValidUntil) < statementSoon {
				fmt.Fprintf(stdout, "    warning: the key statement expires soon: the report form stops sending then, and the relay will not start with it; "+
					"ask the hotline for the next one (docs/key-statement.md#rotation-and-rollback)\n")
			}
		} else {
			fmt.Fprintf(stdout, "    warning: no key statement signed by the hotline: the report form refuses to seal to bare recipients; "+
				"ask the hotline for one (docs/key-statement.md)\n")
		}
		if h.FrameOrigin != "" {
			fmt.Fprintf(stdout, "    report frame served by the hotline at %s: the relay answers its reports and challenges, and serves no frame of its own for this hotline's sites\n",
				h.FrameOrigin)
		}
	}
	return nil
}

// checkStatePaths checks, without making anything, that the relay could
// make the files it keeps state in (the spool, the mailbox, the admin
// socket): each names no folder, and the nearest of its folders that
// exists is a folder, not a file.
func checkStatePaths(cfg *config.Config) error {
	r := &cfg.Relay
	paths := [][2]string{{"relay.admin_socket", r.AdminSocket}}
	if r.Store == config.StoreBbolt {
		paths = append(paths, [2]string{"relay.spool", r.Spool})
		if r.Mailbox != config.MailboxJetStream {
			paths = append(paths, [2]string{"relay.mailbox", r.Mailbox})
		}
	}
	for _, p := range paths {
		key, path := p[0], p[1]
		if path == "" {
			continue
		}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			return fmt.Errorf("config: %s: %s is a folder: name a file in it, like %s", key, path, filepath.Join(path, filepath.Base(defaultStateName[key])))
		}
		for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
			st, err := os.Stat(dir)
			if err == nil && !st.IsDir() {
				return fmt.Errorf("config: %s: %s: %s is a file, not a folder, so the relay cannot make %s there", key, path, dir, filepath.Base(path))
			}
			if err == nil || dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return nil
}

// listenMismatch says why browsers would not reach a relay whose
// public_url is on this machine (loopback, plain http, so no proxy in
// front) but at another port than listen: a port changed in one place
// and not the other. It returns "" otherwise.
func listenMismatch(r *config.Relay) string {
	u, err := url.Parse(r.PublicURL)
	if err != nil || u.Scheme != "http" || r.TLS.Enabled() {
		return ""
	}
	if h := u.Hostname(); h != "localhost" && !isLoopback(h) {
		return ""
	}
	_, port, err := net.SplitHostPort(r.Listen)
	if err != nil || port == "0" || port == cmp.Or(u.Port(), "80") { // 0: any free port, for a test
		return ""
	}
	return fmt.Sprintf("relay.public_url %s is on this machine, but the relay listens on %s: browsers would not reach it there; "+
		"change both together (with a proxy in front, public_url would be the proxy's https:// origin)", r.PublicURL, r.Listen)
}

// isLoopback reports whether host is a loopback IP address.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// count writes n things: "1 hotline", "2 hotlines".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// defaultStateName is the file name the example gives each state key.
var defaultStateName = map[string]string{"relay.spool": "spool.db", "relay.mailbox": "mailbox.db", "relay.admin_socket": "admin.sock"}

// powSummary says what proof of work the relay asks, and where the
// transition from ALTCHA version 1 stands at now.
func powSummary(p *config.PoW, now time.Time) string {
	v1 := "version 1 still accepted, without an end date (accept_v1_until)"
	if t := p.V1Until(); !t.IsZero() && now.Before(t) {
		v1 = "version 1 accepted until " + t.UTC().Format(time.RFC3339)
	} else if !t.IsZero() {
		v1 = "version 1 no longer accepted since " + t.UTC().Format(time.RFC3339)
	}
	k := p.KDF()
	return fmt.Sprintf("proof of work: ALTCHA version 2, %s cost %d, difficulty %d (up to %d under load); %s",
		k.Algorithm, k.Cost, p.Difficulty, p.MaxDifficulty, v1)
}

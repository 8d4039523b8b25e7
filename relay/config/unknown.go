package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// unknownKeys returns an error naming every key of text that no setting
// reads, each with the line it is on, or nil. A key inside a table no
// setting reads is left out: its table is named.
func unknownKeys(text string, keys []toml.Key) error {
	var errs []error
	for i, k := range keys {
		if i > 0 && slices.ContainsFunc(keys[:i], func(p toml.Key) bool { return isPrefix(p, k) }) {
			continue
		}
		at := ""
		if n := keyLine(text, k); n > 0 {
			at = fmt.Sprintf("line %d: ", n)
		}
		errs = append(errs, fmt.Errorf("config: %sunknown key %q: check its spelling against docs/config.md", at, k.String()))
	}
	return errors.Join(errs...)
}

// isPrefix reports whether p names a table that holds k.
func isPrefix(p, k toml.Key) bool {
	return len(p) < len(k) && slices.Equal(p, k[:len(p)])
}

// keyLine returns the line of text (from 1) where key is set or its table
// begins, or else where the nearest key that holds it is set (an inline
// table), or 0. It reads TOML line by line as far as finding a key needs:
// table headers, "key =" lines, and multi-line strings to skip.
func keyLine(text string, key toml.Key) int {
	var table []string
	best, bestLen := 0, 0
	inString := ""
	for i, line := range strings.Split(text, "\n") {
		if inString != "" {
			if strings.Count(line, inString)%2 == 1 {
				inString = ""
			}
			continue
		}
		line = strings.TrimSpace(line)
		var path []string
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '[':
			name := strings.Trim(strings.TrimSpace(strings.SplitN(line, "#", 2)[0]), "[]")
			table = splitKey(name)
			path = table
		default:
			name, value, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			path = append(slices.Clip(table), splitKey(name)...)
			for _, q := range []string{`'''`, `"""`} {
				if strings.Count(value, q)%2 == 1 {
					inString = q
				}
			}
		}
		switch {
		case slices.Equal(path, key):
			return i + 1
		case isPrefix(path, key) && len(path) > bestLen && line[0] != '[':
			best, bestLen = i+1, len(path)
		}
	}
	return best
}

// splitKey splits a dotted TOML key into its parts, unquoted.
func splitKey(s string) []string {
	var parts []string
	for _, p := range strings.Split(s, ".") {
		parts = append(parts, strings.Trim(strings.TrimSpace(p), `"'`))
	}
	return parts
}

// resolvePaths takes every relative path the file names from dir, the
// file's folder, so that the relay and its commands find the same files
// whatever their working directory.
func (c *Config) resolvePaths(dir string) {
	r := &c.Relay
	paths := []*string{&r.Spool, &r.Assets, &r.SigningKeyFile, &r.AdminSocket,
		&r.TLS.CertFile, &r.TLS.KeyFile, &r.TLS.CacheDir, &r.PoW.KeyFile,
		&r.JetStream.CredsFile, &r.JetStream.CAFile, &r.JetStream.CertFile, &r.JetStream.KeyFile}
	if r.Mailbox != MailboxJetStream {
		paths = append(paths, &r.Mailbox)
	}
	for i := range c.Hotlines {
		h := &c.Hotlines[i]
		paths = append(paths, &h.HMACSecretFile, &h.ClientCertFile, &h.ClientKeyFile, &h.IntakeCAFile)
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

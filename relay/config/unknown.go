package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
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

// decodeError explains a file that is TOML but does not fit the
// configuration's shape ([site] for [[site]], a number in quotes): it
// names the keys no setting reads, as unknownKeys does, since a misspelt
// table is often what makes the shape wrong ([[sites]] followed by
// [site.theme]); otherwise the key whose value has the wrong kind, with
// the kind it must have. It returns nil for a file that is not TOML.
func decodeError(text string, err error) error {
	var m map[string]any
	md, perr := toml.Decode(text, &m)
	if perr != nil {
		return nil
	}
	kinds := keyKinds(reflect.TypeOf(Config{}), nil, map[string]string{})
	var unknown []toml.Key
	for _, k := range md.Keys() {
		if _, ok := kinds[k.String()]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return unknownKeys(text, unknown)
	}
	last := lastKey.FindStringSubmatch(err.Error())
	if last == nil || kinds[last[1]] == "" {
		return nil
	}
	key := splitKey(last[1])
	at := ""
	if n := keyLine(text, key); n > 0 {
		at = fmt.Sprintf("line %d: ", n)
	}
	return fmt.Errorf("config: %s%s must be %s (docs/config.md): %w", at, last[1], kinds[last[1]], err)
}

// lastKey finds the key BurntSushi/toml names in a decoding error.
var lastKey = regexp.MustCompile(`\(last key "([^"]+)"\)`)

// keyKinds adds to out every key of the struct type t (tables too), with
// what its value must be, in words, and returns out.
func keyKinds(t reflect.Type, prefix []string, out map[string]string) map[string]string {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		path := append(slices.Clip(prefix), tag)
		name := toml.Key(path).String()
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeOf(Duration{}):
			out[name] = `a duration in double quotes, like "90s"`
		case ft.Kind() == reflect.Struct:
			out[name] = "a table, written [" + name + "]"
			keyKinds(ft, path, out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out[name] = "a list of tables, each written [[" + name + "]]"
			keyKinds(ft.Elem(), path, out)
		case ft.Kind() == reflect.Slice:
			out[name] = `a list in brackets, like ["a", "b"]`
		case ft.Kind() == reflect.String:
			out[name] = "text in double quotes"
		case ft.Kind() == reflect.Bool:
			out[name] = "true or false, without quotes"
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Float64:
			out[name] = "a number, without quotes"
		default:
			out[name] = "as docs/config.md shows"
		}
	}
	return out
}

// syntaxError explains a file that is not TOML: the line, as written,
// and for a text value without quotes (log_level = info) the line with
// them. It returns nil if err is not a TOML syntax error.
func syntaxError(text string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) || pe.Position.Start < 0 || pe.Position.Start > len(text) {
		return nil
	}
	if strings.Contains(pe.Message, "unexpected EOF") {
		if n, q := unclosedString(text); n > 0 {
			return fmt.Errorf("config: line %d: %s: this multi-line string has no closing %s, so the file ends inside it",
				n, strings.TrimSpace(strings.Split(text, "\n")[n-1]), q)
		}
	}
	// The line of the character the parser stopped at (a line's own
	// newline counts as its), which the error's own line number is not
	// always.
	n := strings.Count(text[:pe.Position.Start], "\n")
	line := strings.TrimSpace(strings.Split(text, "\n")[n])
	msg := fmt.Sprintf("config: line %d: %s: %s", n+1, line, pe.Message)
	if key, value, ok := strings.Cut(line, "="); ok && bareWord.MatchString(strings.TrimSpace(value)) {
		return fmt.Errorf("%s: write text in double quotes, %s = %q (docs/config.md)", msg, strings.TrimSpace(key), strings.TrimSpace(value))
	}
	return fmt.Errorf("%s (docs/config.md shows how each key is written)", msg)
}

// unclosedString returns the line (from 1) where a multi-line string
// opens that nothing closes, and its quotes, or 0.
func unclosedString(text string) (int, string) {
	open, start := "", 0
	for i, line := range strings.Split(text, "\n") {
		if open == "" && strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, q := range []string{`'''`, `"""`} {
			if (open == "" || open == q) && strings.Count(line, q)%2 == 1 {
				if open == "" {
					open, start = q, i+1
				} else {
					open = ""
				}
			}
		}
	}
	if open == "" {
		return 0, ""
	}
	return start, open
}

// bareWord is a value that TOML cannot read but that was meant as text.
var bareWord = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$`)

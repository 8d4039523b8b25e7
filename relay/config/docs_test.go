package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tomlKeys returns the full name of every key of t, as written in
// docs/config.md: "relay.tls.cert_file", "hotline.id", "site.theme.color".
func tomlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "" || !f.IsExported() {
			continue
		}
		name := prefix + tag
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{}) {
			out = append(out, tomlKeys(ft, name+".")...)
			continue
		}
		out = append(out, name)
	}
	return out
}

// TestDocsListEveryKey keeps docs/config.md true to the code: every key,
// environment variable and flag must be in it.
func TestDocsListEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	keys := tomlKeys(reflect.TypeOf(Config{}), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d keys: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("docs/config.md does not list `%s`", k)
		}
	}
	for _, k := range OverrideKeys {
		if !strings.Contains(doc, "`"+k.Env+"`") || !strings.Contains(doc, "`-"+k.Flag+"`") {
			t.Errorf("docs/config.md does not list %s and -%s", k.Env, k.Flag)
		}
	}
}

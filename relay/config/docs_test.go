package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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

// TestDocsErrorExamples: the errors docs/config.md shows as examples are
// the ones the relay gives for those values, word for word (the line
// number of the misspelt key aside).
func TestDocsErrorExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "says why, for example\n\n```\n")
	if i < 0 {
		t.Fatal("docs/config.md has no example errors")
	}
	block := doc[i+len("says why, for example\n\n```\n"):]
	block = block[:strings.Index(block, "```")]
	good := validTOML(t)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		want := strings.TrimPrefix(line, "relay: error: ")
		var in string
		var over []Override
		switch {
		case strings.Contains(want, "theme.color"):
			color := regexp.MustCompile(`"(#[0-9a-f]{6})"`).FindStringSubmatch(want)[1]
			in = good + "\n[site.theme]\ncolor = \"" + color + "\"\n"
		case strings.Contains(want, "RELAY_LOG_FORMAT"):
			in, over = good, []Override{{Key: "relay.log_format", Value: "xml", Source: "RELAY_LOG_FORMAT"}}
		case strings.Contains(want, "unknown key"):
			in = strings.Replace(good, "spool =", "spoool =", 1)
			want = regexp.MustCompile(`line \d+`).ReplaceAllString(want, fmt.Sprintf("line %d", strings.Count(in[:strings.Index(in, "spoool")], "\n")+1))
		default:
			t.Errorf("the test does not know how to make %q", line)
			continue
		}
		checked++
		if _, err := Parse([]byte(in), over...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("docs/config.md shows\n  %s\nbut the relay says\n  %v", want, err)
		}
	}
	if checked == 0 {
		t.Fatal("checked no example error")
	}
}

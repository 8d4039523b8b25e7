package intake

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/reportline/reportline/hotline/termsafe"
	"github.com/reportline/reportline/report"
)

// multiLine are the report's free-text fields, where line feeds and tabs
// are part of the text.
var multiLine = map[string]bool{"description": true, "details": true}

// HiddenCharacters lists the fields of r, by their JSON names
// ("locations[1].value", "contact.name"), whose text holds control, bidi
// or invisible characters as [termsafe] defines them. A reporter's browser
// never types such characters into an address; a report that holds them
// was likely made to mislead the analyst who reads it.
func HiddenCharacters(r *report.Report) []string {
	var out []string
	hiddenIn(reflect.ValueOf(r), "", &out)
	return out
}

func hiddenIn(v reflect.Value, name string, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			hiddenIn(v.Elem(), name, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if name != "" {
				tag = name + "." + tag
			}
			hiddenIn(v.Field(i), tag, out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			hiddenIn(v.Index(i), name+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.String:
		s := v.String()
		if multiLine[name] && termsafe.CleanText(s) || !multiLine[name] && termsafe.Clean(s) {
			return
		}
		*out = append(*out, name)
	}
}

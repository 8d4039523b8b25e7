package intake

import (
	"reflect"
	"strconv"
	"strings"
	"sync"

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

// hiddenIn appends to out the names of the strings in v that hold hidden
// characters; name is v's own. The names of the members below v are made
// only for those that hold some, and their JSON names are read from the
// struct tags once per type: made and read for every member of every
// report, they cost about 10 µs of CPU per report stored.
func hiddenIn(v reflect.Value, name string, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			hiddenIn(v.Elem(), name, out)
		}
	case reflect.Struct:
		for _, f := range jsonFields(v.Type()) {
			fv := v.Field(f.index)
			if fv.Kind() == reflect.String {
				if !cleanString(fv.String(), f.multiLine && name == "") {
					*out = append(*out, member(name, f.name))
				}
				continue
			}
			hiddenIn(fv, member(name, f.name), out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			hiddenIn(v.Index(i), name+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.String:
		if !cleanString(v.String(), multiLine[name]) {
			*out = append(*out, name)
		}
	}
}

// cleanString reports whether s holds no hidden characters; multiLine
// allows the line feeds and tabs of free text.
func cleanString(s string, multiLine bool) bool {
	if multiLine {
		return termsafe.CleanText(s)
	}
	return termsafe.Clean(s)
}

// member is the name of a member of the object called parent.
func member(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// jsonField is a struct field with a JSON name.
type jsonField struct {
	index     int
	name      string
	multiLine bool // one of multiLine's names, if a member of the report itself
}

// fieldsByType holds each struct type's jsonFields.
var fieldsByType sync.Map // reflect.Type to []jsonField

// jsonFields returns the fields of struct type t that have a JSON name.
func jsonFields(t reflect.Type) []jsonField {
	if fs, ok := fieldsByType.Load(t); ok {
		return fs.([]jsonField)
	}
	var fs []jsonField
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fs = append(fs, jsonField{index: i, name: tag, multiLine: multiLine[tag]})
	}
	fieldsByType.Store(t, fs)
	return fs
}

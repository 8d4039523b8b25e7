package formstate

import "strings"

// Args reads a data-i18n-args attribute ("n=2;date=2026-11-26") into the
// key, value pairs a message takes. A "date" value (a day, YYYY-MM-DD) is written as the
// reader's language writes dates, by formatDate.
func Args(attr string, formatDate func(day string) string) []string {
	if attr == "" {
		return nil
	}
	var args []string
	for _, pair := range strings.Split(attr, ";") {
		k, v, _ := strings.Cut(pair, "=")
		if k == "date" {
			v = formatDate(v)
		}
		args = append(args, k, v)
	}
	return args
}

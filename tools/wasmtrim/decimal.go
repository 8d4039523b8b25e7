package main

// The rest of this file, from the comment on decimal on, is written into
// age's scrypt.go in the browser build in place of its regular
// expression; the fuzz test holds it to the expression it replaces.

// decimal matches what age's `^[1-9][0-9]*$` matches: one or more ASCII
// digits without a leading zero.
type decimal struct{}

func (decimal) MatchString(s string) bool {
	if s == "" || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

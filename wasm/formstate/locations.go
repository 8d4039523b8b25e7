package formstate

import "github.com/reportline/reportline/report"

// Message keys of the problems [LocationProblem] finds.
const (
	KeyDuplicate       = "error.duplicate"
	KeyAlreadyReported = "error.already_reported"
)

// Reported are the locations sent from this frame, normalized, so that a
// second report of the same address during the visit is flagged. They
// live in memory only, like everything typed.
type Reported map[string]bool

// Add records the locations of a report the relay accepted.
func (r Reported) Add(locs []report.Location) {
	for _, l := range locs {
		r[report.NormalizeLocation(l.Value)] = true
	}
}

// Errors are the field errors for the locations of a report that were
// already sent from this frame.
func (r Reported) Errors(locs []report.Location) []report.FieldError {
	var errs []report.FieldError
	for i, l := range locs {
		if r[report.NormalizeLocation(l.Value)] {
			errs = append(errs, report.FieldError{Field: "locations", Index: i, Code: "already_reported"})
		}
	}
	return errs
}

// LocationProblem returns the message key of what is wrong with a
// location as soon as the reporter leaves its row, or "": value is what
// the row holds (trimmed), above what the rows above it hold. A location
// already reported from this frame wins over one typed twice.
func LocationProblem(value string, above []string, reported Reported) string {
	if value == "" {
		return ""
	}
	norm := report.NormalizeLocation(value)
	key := ""
	for _, a := range above {
		if report.NormalizeLocation(a) == norm {
			key = KeyDuplicate
		}
	}
	if reported[norm] {
		key = KeyAlreadyReported
	}
	return key
}

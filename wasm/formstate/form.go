package formstate

import (
	"errors"
	"time"

	"github.com/reportline/reportline/report"
)

// Check validates a report built from the form's values, as the form
// does before sealing it: the format's rules, and no location already
// reported from this frame. It returns the field errors to show, or an
// error if the report could not be checked at all.
func Check(f *report.Form, r *report.Report, reported Reported, now time.Time) ([]report.FieldError, error) {
	var errs []report.FieldError
	var ve *report.ValidationError
	if err := report.Validate(f, r, now); errors.As(err, &ve) {
		errs = ve.Errors
	} else if err != nil {
		return nil, err
	}
	return append(errs, reported.Errors(r.Locations)...), nil
}

// Hidden says, for each field of f shown only under a condition, whether
// it is hidden now: value returns the current value of a field. A field
// whose condition's field is itself hidden is hidden too, whatever that
// field holds.
func Hidden(f *report.Form, value func(field string) string) map[string]bool {
	hidden := map[string]bool{}
	for _, fd := range f.Fields {
		if c := fd.ShowWhen; c != nil {
			hidden[fd.Name] = hidden[c.Field] || !c.Holds(value(c.Field))
		}
	}
	return hidden
}

package intake

import (
	"time"

	"github.com/reportline/reportline/internal/quietlog"
)

// warnRefused logs, at warn level, a refusal of kind name (a problem's
// name) that anyone can cause without a key, or with a captured delivery
// to replay: one a second of each kind (package quietlog). Every refusal
// is still counted in Stats.
func (in *Intake) warnRefused(now time.Time, name, msg string, args ...any) {
	ok, skipped := in.quiet.Allow(name, now)
	if !ok {
		return
	}
	in.Log.Warn(msg, quietlog.Args(skipped, args...)...)
}

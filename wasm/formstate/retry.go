package formstate

import (
	"strconv"
	"strings"
	"time"
)

// NoRetry is the answer of [Retry] when sending again cannot help.
const NoRetry time.Duration = -1

// MaxRetryAfter is the longest Retry-After the form waits for by itself;
// a relay that asks for longer is told to the reporter instead.
const MaxRetryAfter = 30

// Retry says whether sending a refused report again may help, from the
// relay's answer: its status, the problem type (empty if the answer was
// not a problem) and its Retry-After header. A proof of work the relay
// found expired, spent or invalid is replaced at once (0); a relay busy
// (429, 503) for at most [MaxRetryAfter] seconds is waited for; anything
// else is final ([NoRetry]).
func Retry(status int, problemType, retryAfter string) time.Duration {
	for _, p := range []string{"/pow-expired", "/pow-used", "/pow-invalid"} {
		if strings.HasSuffix(problemType, p) {
			return 0
		}
	}
	if status == 429 || status == 503 {
		if secs, err := strconv.Atoi(retryAfter); err == nil && secs <= MaxRetryAfter {
			return time.Duration(secs) * time.Second
		}
	}
	return NoRetry
}

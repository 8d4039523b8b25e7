package relay

import "time"

// DefaultBodyGrace is how long a report body may take before the minimum
// body rate (relay.limits.min_body_rate) applies: a connection's slow
// start, a phone waking its radio. The guard is httpedge.RateGuard.
const DefaultBodyGrace = 5 * time.Second

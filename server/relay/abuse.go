package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/server/config"
	"github.com/reportline/reportline/server/pow"
	"github.com/reportline/reportline/server/problem"
	"github.com/reportline/reportline/server/ratelimit"
)

// HeaderTrap is the request header the widget sends, with the value "1",
// when the form's hidden honeypot field was filled in: a person cannot see
// that field, a form-filling bot does. The relay answers such a report
// with an ordinary receipt and stores nothing.
const HeaderTrap = "Report-Trap"

// HeaderProof is the request header that carries the proof of work.
const HeaderProof = pow.Header

// defenses are the relay's protections against floods, as described in
// docs/abuse.md: a proof of work per report, per-client and global rate
// limits, and a bound on report bodies read at once. All of their state is
// in memory.
type defenses struct {
	issuer     *pow.Issuer
	replay     *pow.ReplayStore
	difficulty *pow.Difficulty
	challenges *ratelimit.Clients // per client, challenge requests
	reports    *ratelimit.Clients // per client, report submissions
	total      *ratelimit.Bucket  // all clients, reports with valid work
	inflight   *ratelimit.Gate    // report bodies being read
	trusted    []netip.Prefix
}

// newDefenses builds the defenses from a validated configuration.
func newDefenses(cfg *config.Config) *defenses {
	p, l := &cfg.Relay.PoW, &cfg.Relay.Limits
	key := p.Key()
	if key == nil {
		key = pow.RandomKey()
	}
	issuer, err := pow.NewIssuer(key, p.Expiry.Duration)
	if err != nil {
		panic(fmt.Sprintf("relay: the configuration was not validated: %v", err))
	}
	return &defenses{
		issuer:     issuer,
		replay:     pow.NewReplayStore(p.ReplayCapacity),
		difficulty: pow.NewDifficulty(p.Difficulty, p.MaxDifficulty, p.RaiseAboveChallenges, p.RaiseAboveReports),
		challenges: ratelimit.NewClients(ratelimit.Rate{PerMinute: l.ChallengesPerMinute, Burst: l.ChallengeBurst}, l.KeyRotation.Duration, l.MaxClients),
		reports:    ratelimit.NewClients(ratelimit.Rate{PerMinute: l.ReportsPerMinute, Burst: l.ReportBurst}, l.KeyRotation.Duration, l.MaxClients),
		// The global ceiling allows ten seconds' worth at once.
		total:    ratelimit.NewBucket(ratelimit.Rate{PerMinute: l.TotalReportsPerMinute, Burst: max(1, int(l.TotalReportsPerMinute/6))}),
		inflight: ratelimit.NewGate(l.MaxConcurrentReports),
		trusted:  l.Trusted(),
	}
}

// Difficulty returns the proof-of-work difficulty (maxnumber) new
// challenges get now, for the metrics.
func (s *Server) Difficulty() int64 { return s.def.difficulty.Level() }

// limit takes a token from the client's bucket in c.
func (d *defenses) limit(c *ratelimit.Clients, r *http.Request) *problem.Problem {
	addr, ok := ratelimit.ClientAddr(r, d.trusted)
	if !ok {
		addr = netip.IPv6Unspecified() // not over IP: one shared bucket
	}
	if ok, wait := c.Take(addr); !ok {
		p := problem.New(http.StatusTooManyRequests, "rate-limited", "Too many requests",
			"this connection sent more requests than the relay takes from one sender; wait as Retry-After says and send again")
		p.RetryAfter = wait
		return p
	}
	return nil
}

// busy is the answer when a global ceiling is reached.
func busy(wait time.Duration) *problem.Problem {
	p := problem.New(http.StatusTooManyRequests, "relay-busy", "Relay busy",
		"the relay is taking as many reports as it can right now; nothing was stored: wait as Retry-After says and send again")
	p.RetryAfter = wait
	return p
}

// issueChallenge answers GET /v1/sites/{site}/challenge with a new proof
// of work challenge in ALTCHA's form.
func (s *Server) issueChallenge(w http.ResponseWriter, r *http.Request) {
	site := s.config().Site(r.PathValue("site"))
	if site == nil {
		s.refuseChallenge(w, unknownSite(r.PathValue("site")))
		return
	}
	if p := s.foreignOrigin(r); p != nil {
		s.refuseChallenge(w, p)
		return
	}
	if p := s.def.limit(s.def.challenges, r); p != nil {
		s.refuseChallenge(w, p)
		return
	}
	c, err := s.def.issuer.Issue(site.ID, s.def.difficulty.Level())
	if err != nil {
		s.log.Error("failed to issue a challenge", "err", err)
		problem.Write(w, problem.New(http.StatusInternalServerError, "internal", "Internal error", "no challenge could be made; try again"))
		return
	}
	s.def.difficulty.NoteChallenge()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(c)
}

func (s *Server) refuseChallenge(w http.ResponseWriter, p *problem.Problem) {
	s.log.Info("challenge refused", "reason", p.Name(), "status", p.Status)
	problem.Write(w, p)
}

// verifyProof checks the request's proof of work for site: its form, its
// signature, its expiry and its number, in that order, before the body is
// read. Spending it comes later (redeemProof), once the body is known to
// be a report.
func (s *Server) verifyProof(r *http.Request, site string) (pow.Proof, *problem.Problem) {
	values := r.Header.Values(HeaderProof)
	if len(values) == 0 || values[0] == "" {
		return pow.Proof{}, problem.New(http.StatusForbidden, "pow-required", "Proof of work required",
			"send each report with a solved challenge from GET /v1/sites/{site}/challenge in the "+HeaderProof+
				" header; the form does this in the background: reload it")
	}
	if len(values) > 1 {
		return pow.Proof{}, powMalformed("more than one " + HeaderProof + " header")
	}
	sol, err := pow.ParseSolution(values[0])
	if err != nil {
		return pow.Proof{}, powMalformed(err.Error())
	}
	proof, err := s.def.issuer.Verify(sol, site)
	switch {
	case err == nil:
		return proof, nil
	case errors.Is(err, pow.ErrExpired):
		return pow.Proof{}, powExpired()
	case errors.Is(err, pow.ErrForged), errors.Is(err, pow.ErrUnsolved):
		return pow.Proof{}, problem.New(http.StatusForbidden, "pow-invalid", "Proof of work not valid",
			err.Error()+"; solve a new challenge from this relay for this site and send again")
	default:
		return pow.Proof{}, powMalformed(err.Error())
	}
}

// redeemProof spends the proof on the report id: it admits that report,
// and the same report again, but no other.
func (s *Server) redeemProof(p pow.Proof, id string) *problem.Problem {
	err := s.def.replay.Redeem(p, id, s.nowFunc())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pow.ErrReplayed):
		return problem.New(http.StatusForbidden, "pow-used", "Proof of work already used",
			"this proof of work was spent on another report; solve a new challenge and send again")
	case errors.Is(err, pow.ErrExpired):
		return powExpired()
	default:
		s.log.Warn("replay store full: refusing reports until proofs expire")
		return busy(time.Minute)
	}
}

func powMalformed(detail string) *problem.Problem {
	return problem.New(http.StatusBadRequest, "pow-malformed", "Malformed proof of work",
		detail+"; send the solution as base64 of ALTCHA's JSON payload")
}

func powExpired() *problem.Problem {
	return problem.New(http.StatusForbidden, "pow-expired", "Proof of work expired",
		"the challenge has expired; solve a new one and send again")
}

// honeypot answers a report whose honeypot field was filled in as if it
// were stored, and stores nothing.
func (s *Server) honeypot(w http.ResponseWriter, id string) {
	s.noteRejection("honeypot", http.StatusAccepted)
	writeReceipt(w, Receipt{ID: id, Reference: report.Reference(id), Received: s.nowFunc().UTC().Format(time.DateOnly)})
}

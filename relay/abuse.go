package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/reportline/reportline/internal/problem"
	"github.com/reportline/reportline/internal/quietlog"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/ratelimit"
	"github.com/reportline/reportline/report"
)

// HeaderTrap is the request header the widget sends, with the value "1",
// when the form's hidden honeypot field was filled in: a person cannot see
// that field, a form-filling bot does. The relay answers such a report
// with an ordinary receipt and stores nothing.
const HeaderTrap = "Report-Trap"

// HeaderPriority is the request header with which the form marks a report
// whose reporter said a child is in danger right now, or that they are
// being threatened: "Report-Priority: urgent". The relay cannot read the
// report; this is the one thing about it the reporter's answer tells the
// relay, and only where the hotline allows it (hotline.urgent_marker).
// The store keeps it with the report ([spool.Entry.Urgent]), so that the
// report is delivered ahead of those that are not urgent on every attempt,
// after a restart too.
const HeaderPriority = "Report-Priority"

// HeaderProof is the request header that carries the proof of work.
const HeaderProof = pow.Header

// defenses are the relay's protections against floods, as described in
// docs/abuse.md: a proof of work per report, per-client and global rate
// limits, and bounds on report bodies read at once, in all and from each
// client, and on how slowly a body may arrive. All of their state is in
// memory.
type defenses struct {
	issuer     *pow.Issuer
	v1PerLevel float64 // version 1's maxnumber per unit of difficulty
	replay     *pow.ReplayStore
	shared     SharedProofs // nil: proofs are this process's alone
	difficulty *pow.Difficulty
	challenges *ratelimit.Clients // per client, challenge requests
	reports    *ratelimit.Clients // per client, report submissions
	fetches    *ratelimit.Clients // per client, mailbox fetches
	replies    *ratelimit.Clients // per client, hotlines' reply posts
	total      *ratelimit.Bucket  // all clients, reports with valid work
	inflight   *ratelimit.Gate    // report bodies being read
	bodies     *ratelimit.ClientGate
	trusted    []netip.Prefix
	// minRate is the slowest a report body may arrive, in bytes a second,
	// once bodyGrace is over.
	minRate   int
	bodyGrace time.Duration
}

// newDefenses builds the defenses from a validated configuration.
func newDefenses(cfg *config.Config) *defenses {
	p, l := &cfg.Relay.PoW, &cfg.Relay.Limits
	key := p.Key()
	if key == nil {
		key = pow.RandomKey()
	}
	issuer, err := pow.NewIssuer(key, p.Expiry.Duration)
	if err == nil {
		err = issuer.SetKDF(p.KDF())
	}
	if err != nil {
		panic(fmt.Sprintf("relay: the configuration was not validated: %v", err))
	}
	if t := p.V1Until(); !t.IsZero() {
		issuer.RetireV1(t)
	}
	return &defenses{
		issuer:     issuer,
		v1PerLevel: float64(p.V1Difficulty) / float64(p.Difficulty),
		replay:     pow.NewReplayStore(p.ReplayCapacity),
		difficulty: pow.NewDifficulty(p.Difficulty, p.MaxDifficulty, p.RaiseAboveChallenges, p.RaiseAboveReports),
		challenges: ratelimit.NewClients(ratelimit.Rate{PerMinute: l.ChallengesPerMinute, Burst: l.ChallengeBurst}, l.KeyRotation.Duration, l.MaxClients),
		reports:    ratelimit.NewClients(ratelimit.Rate{PerMinute: l.ReportsPerMinute, Burst: l.ReportBurst}, l.KeyRotation.Duration, l.MaxClients),
		// Fetches have the reports' rate: a reporter fetches about as
		// often as they report.
		fetches: ratelimit.NewClients(ratelimit.Rate{PerMinute: l.ReportsPerMinute, Burst: l.ReportBurst}, l.KeyRotation.Duration, l.MaxClients),
		// Reply posts have their own rate: a hotline's analysts often
		// share one address, and the limit still bounds what a sender
		// without the hotline's key makes the relay read and verify.
		replies: ratelimit.NewClients(ratelimit.Rate{PerMinute: l.RepliesPerMinute, Burst: l.ReplyBurst}, l.KeyRotation.Duration, l.MaxClients),
		// The global ceiling allows ten seconds' worth at once.
		total:     ratelimit.NewBucket(ratelimit.Rate{PerMinute: l.TotalReportsPerMinute, Burst: max(1, int(l.TotalReportsPerMinute/6))}),
		inflight:  ratelimit.NewGate(l.MaxConcurrentReports),
		bodies:    ratelimit.NewClientGate(l.MaxConcurrentReportsPerClient),
		trusted:   l.Trusted(),
		minRate:   l.MinBodyRate,
		bodyGrace: DefaultBodyGrace,
	}
}

// Difficulty returns the proof-of-work difficulty (maxnumber) new
// challenges get now, for the metrics.
func (s *Server) Difficulty() int64 { return s.def.difficulty.Level() }

// client is the address r came from, for the limits only: never log or
// store it.
func (d *defenses) client(r *http.Request) netip.Addr {
	addr, ok := ratelimit.ClientAddr(r, d.trusted)
	if !ok {
		addr = netip.IPv6Unspecified() // not over IP: one shared bucket
	}
	return addr
}

// limit takes a token from the client's bucket in c.
func (d *defenses) limit(c *ratelimit.Clients, r *http.Request) *problem.Problem {
	if ok, wait := c.Take(d.client(r)); !ok {
		p := problem.New(http.StatusTooManyRequests, "rate-limited", "Too many requests",
			"this connection sent more requests than the relay takes from one sender; wait as Retry-After says and send again")
		p.RetryAfter = wait
		return p
	}
	return nil
}

// enterBody takes one of the client's places among the report bodies
// read at once; leave gives it back.
func (d *defenses) enterBody(r *http.Request) (leave func(), p *problem.Problem) {
	leave, ok := d.bodies.TryEnter(d.client(r))
	if !ok {
		p := problem.New(http.StatusTooManyRequests, "rate-limited", "Too many reports at once",
			"this connection is already sending as many reports at once as the relay reads from one sender; "+
				"nothing was stored: wait as Retry-After says and send again")
		p.RetryAfter = 2 * time.Second
		return nil, p
	}
	return leave, nil
}

// busy is the answer when a global ceiling is reached.
func busy(wait time.Duration) *problem.Problem {
	p := problem.New(http.StatusTooManyRequests, "relay-busy", "Relay busy",
		"the relay is taking as many reports as it can right now; nothing was stored: wait as Retry-After says and send again")
	p.RetryAfter = wait
	return p
}

// issueChallenge answers GET /v1/sites/{site}/challenge with a new proof
// of work challenge in ALTCHA's form: version 2 when asked with
// ?protocol=2 (the widget does) or once version 1 is retired, else
// version 1, for the clients of the transition.
func (s *Server) issueChallenge(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	site := cfg.Site(r.PathValue("site"))
	if site == nil {
		s.refuseChallenge(w, unknownSite(r.PathValue("site")))
		return
	}
	allowFrame(w, r, cfg, site)
	if p := s.foreignOrigin(r, cfg, site); p != nil {
		s.refuseChallenge(w, p)
		return
	}
	if p := s.def.limit(s.def.challenges, r); p != nil {
		s.refuseChallenge(w, p)
		return
	}
	c, err := s.def.issue(site.ID, r.URL.Query().Get("protocol") == "2")
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

// issue makes a challenge of the difficulty of the moment, of version 2
// if v2 or once version 1 is retired.
func (d *defenses) issue(site string, v2 bool) (any, error) {
	level := d.difficulty.Level()
	if v2 || !d.issuer.AcceptsV1() {
		return d.issuer.IssueV2(site, level)
	}
	return d.issuer.Issue(site, min(int64(float64(level)*d.v1PerLevel), config.MaxV1Difficulty))
}

// refuseChallenge logs a refused challenge by its reason only, one line a
// second of each reason at most (anyone can cause them, as rejected
// reports), and answers it.
func (s *Server) refuseChallenge(w http.ResponseWriter, p *problem.Problem) {
	if ok, skipped := s.quiet.Allow("challenge "+p.Name(), s.nowFunc()); ok {
		s.log.Info("challenge refused", quietlog.Args(skipped, "reason", p.Name(), "status", p.Status)...)
	}
	problem.Write(w, p)
}

// verifyProof checks the request's proof of work for site: its form, its
// signature, its expiry and its number, in that order, before the body is
// read. Spending it comes next (reserveProof).
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
	proof, err := s.def.issuer.VerifyHeader(values[0], site)
	switch {
	case err == nil:
		return proof, nil
	case errors.Is(err, pow.ErrExpired):
		return pow.Proof{}, powExpired()
	case errors.Is(err, pow.ErrForged), errors.Is(err, pow.ErrUnsolved), errors.Is(err, pow.ErrRetired):
		return pow.Proof{}, problem.New(http.StatusForbidden, "pow-invalid", "Proof of work not valid",
			err.Error()+"; solve a new challenge from this relay for this site and send again")
	default:
		return pow.Proof{}, powMalformed(err.Error())
	}
}

// reserveProof spends the proof on the report id and holds it for this
// request, before its body is read: another request with the same proof
// is refused until this one ends, so that one proof holds at most one
// body slot. Call done when the request ends.
//
// The proof stays spent on this report id whatever becomes of the
// request, a refusal for its body included: it can admit the same report
// again (the widget's retry, or the body sent again), never another one.
// Giving it back instead would let a sender move one proof from report to
// report, slow body after slow body.
func (s *Server) reserveProof(p pow.Proof, id string) (done func(), _ *problem.Problem) {
	done, err := s.def.replay.Reserve(p, id, s.nowFunc())
	if err == nil && s.def.shared != nil {
		if err = s.def.shared.Spend(p, id); err != nil {
			done()
			if !errors.Is(err, pow.ErrReplayed) {
				s.log.Error("failed to spend a proof of work in the shared store", "err", err)
				return nil, busy(10 * time.Second)
			}
		}
	}
	switch {
	case err == nil:
		return done, nil
	case errors.Is(err, pow.ErrReplayed):
		return nil, problem.New(http.StatusForbidden, "pow-used", "Proof of work already used",
			"this proof of work was spent on another report; solve a new challenge and send again")
	case errors.Is(err, pow.ErrInUse):
		return nil, problem.New(http.StatusForbidden, "pow-used", "Proof of work in use",
			"another request is being sent with this proof of work right now; solve a new challenge and send again")
	case errors.Is(err, pow.ErrExpired):
		return nil, powExpired()
	default:
		s.log.Warn("replay store full: refusing reports until proofs expire")
		return nil, busy(time.Minute)
	}
}

// SharedProofs spends proofs of work in a store that every relay of a
// cluster shares (natsstore.Proofs is one), so that one proof admits one
// report in the cluster rather than one per relay.
type SharedProofs interface {
	// Spend returns nil if p is new or was spent on this report, and
	// pow.ErrReplayed if it was spent on another.
	Spend(p pow.Proof, report string) error
}

// ShareProofs makes the relay sign challenges with key (unless
// relay.pow.key_file names one, which wins) and spend proofs in shared as
// well as in its own memory. Call it before serving.
func (s *Server) ShareProofs(key []byte, shared SharedProofs) error {
	cfg := s.config()
	if cfg.Relay.PoW.Key() == nil {
		issuer, err := pow.NewIssuer(key, cfg.Relay.PoW.Expiry.Duration)
		if err != nil {
			return fmt.Errorf("share proofs of work: %w", err)
		}
		s.def.issuer = issuer
	}
	s.def.shared = shared
	return nil
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

package cause

// Verdict answers the visitor's question "is it down for everyone?" for
// the upstream their request failed on. The string values are the words
// the page's data-state and the status API use.
type Verdict string

// The verdicts.
const (
	// VerdictDown: the site's server cannot be reached, and our own check
	// agrees or many visitors met errors.
	VerdictDown Verdict = "down_for_everyone"
	// VerdictOverloaded: the server is up but did not answer in time.
	VerdictOverloaded Verdict = "overloaded"
	// VerdictAppError: the server answered this request with an error.
	VerdictAppError Verdict = "app_error"
	// VerdictMaintenance: the application said it is down on purpose.
	VerdictMaintenance Verdict = "maintenance"
	// VerdictRecovering: a check made after this request failed passed:
	// the request would now most likely succeed.
	VerdictRecovering Verdict = "recovering"
	// VerdictJustYou: positive evidence that the visitor's own request is
	// the problem (cookies too large for the site).
	VerdictJustYou Verdict = "just_you"
	// VerdictNotEveryone: no evidence of its own, but a fresh check passes
	// and few visitors are affected.
	VerdictNotEveryone Verdict = "not_everyone"
	// VerdictChecking: this request's failure contradicts what we knew; a
	// check is under way and the page asks again within seconds.
	VerdictChecking Verdict = "checking"
	// VerdictUnknown: nothing checked, nothing to go on.
	VerdictUnknown Verdict = "unknown"
)

// Verdicts lists every verdict, for message completeness checks.
func Verdicts() []Verdict {
	return []Verdict{VerdictDown, VerdictOverloaded, VerdictAppError, VerdictMaintenance, VerdictRecovering,
		VerdictJustYou, VerdictNotEveryone, VerdictChecking, VerdictUnknown}
}

// Hop is the state of the site's server in the chain shown to visitors
// (you → gateway → site's server).
type Hop string

// The hop states; each has a chain.state.* message.
const (
	HopOK          Hop = "ok"
	HopDown        Hop = "down"
	HopSlow        Hop = "slow"
	HopError       Hop = "error"
	HopMaintenance Hop = "maintenance"
	HopUnknown     Hop = "unknown"
)

// ProbeState is what the latest check of the upstream said.
type ProbeState uint8

// The probe states.
const (
	ProbeNone ProbeState = iota // never checked
	ProbeUp                     // the latest check passed
	ProbeDown                   // the latest check failed
)

// Evidence is everything a verdict is decided from: the request's own
// evidence first, then its upstream's check, then the crowd.
type Evidence struct {
	Own     Kind       // from the request itself (FromRequest(...).Kind()); KindUnknown when there is none
	Probe   ProbeState // the latest check of the upstream the request failed on
	Fresh   bool       // that check started after the request failed
	Failed  bool       // the upstream failed a check recently (within the recovery period) before passing again
	Pending bool       // a check will run: the upstream has a target
	Many    bool       // the distinct visitors with errors on the upstream reached the threshold
	// Over: the application's own Retry-After has passed since the failure.
	Over bool
}

// Decision is the verdict and what the page does about it.
type Decision struct {
	Verdict Verdict
	Origin  Hop
	// Reload: the page may reload by itself (a GET; the script still
	// guards against loops), because the evidence says the request would
	// now succeed. Never for an application error.
	Reload bool
	Many   bool // many visitors are affected: the page says so
	Row    int  // the row of the table that decided, 1-based
}

// Conditions of a row. any matches everything.
type cond uint8

const (
	any cond = iota
	yes
	no
)

func (c cond) match(b bool) bool { return c == any || (c == yes) == b }

// row is one line of the verdict table: the conditions and the outcome.
type row struct {
	kinds   []Kind
	probe   []ProbeState // nil: any
	fresh   cond
	failed  cond
	pending cond
	many    cond
	over    cond
	verdict Verdict
	origin  Hop
	reload  bool
}

var (
	unreach  = []Kind{KindUnreachable}
	overload = []Kind{KindOverloaded}
	unknown  = []Kind{KindUnknown, KindNone}
	up       = []ProbeState{ProbeUp}
	down     = []ProbeState{ProbeDown}
	none     = []ProbeState{ProbeNone}
	upOrNone = []ProbeState{ProbeUp, ProbeNone}
)

func kinds(k ...[]Kind) []Kind {
	var out []Kind
	for _, ks := range k {
		out = append(out, ks...)
	}
	return out
}

// table is the verdict decision, first match wins. docs/verdict.md is its
// prose form; keep the two in step (a test checks the row count).
var table = []row{
	// 1. Positive evidence against the request itself.
	{kinds: []Kind{KindClient}, verdict: VerdictJustYou, origin: HopOK},
	// 2-3. The application said it is down on purpose, and until when.
	{kinds: []Kind{KindMaintenance}, probe: up, fresh: yes, over: yes, verdict: VerdictRecovering, origin: HopOK, reload: true},
	{kinds: []Kind{KindMaintenance}, verdict: VerdictMaintenance, origin: HopMaintenance},
	// 4. The application answered this request with an error: never "you",
	// never a reload into the same error.
	{kinds: []Kind{KindAppError}, verdict: VerdictAppError, origin: HopError},
	// 5. Our check cannot reach it either.
	{kinds: kinds(unreach, overload, unknown), probe: down, verdict: VerdictDown, origin: HopDown},
	// 6-7. A check made after the failure passes: it would work now.
	{kinds: kinds(unreach, overload, unknown), probe: up, fresh: yes, failed: yes, verdict: VerdictRecovering, origin: HopOK, reload: true},
	{kinds: unreach, probe: up, fresh: yes, verdict: VerdictRecovering, origin: HopOK, reload: true},
	// 8. Up and answering checks, but this request timed out: slow, not gone.
	{kinds: overload, probe: up, fresh: yes, verdict: VerdictOverloaded, origin: HopSlow},
	// 9. No evidence of its own, a fresh check passes, few affected.
	{kinds: unknown, probe: up, fresh: yes, many: no, verdict: VerdictNotEveryone, origin: HopOK},
	// 10. Many distinct visitors met errors on this upstream.
	{kinds: kinds(unreach, overload, unknown), many: yes, verdict: VerdictDown, origin: HopUnknown},
	// 11. A timeout is a slow answer by its own evidence.
	{kinds: overload, verdict: VerdictOverloaded, origin: HopSlow},
	// 12-13. What we knew predates the failure, or nothing yet: a check is
	// under way, ask again in a moment.
	{kinds: kinds(unreach, unknown), probe: up, fresh: no, verdict: VerdictChecking, origin: HopUnknown},
	{kinds: kinds(unreach, unknown), probe: none, pending: yes, verdict: VerdictChecking, origin: HopUnknown},
	// 14. The gateway could not reach it and nothing can be checked.
	{kinds: unreach, probe: none, pending: no, verdict: VerdictUnknown, origin: HopDown},
	// 15. Nothing to go on.
	{kinds: unknown, probe: upOrNone, verdict: VerdictUnknown, origin: HopUnknown},
}

func (r row) matches(k Kind, e Evidence) bool {
	kindOK := false
	for _, x := range r.kinds {
		if x == k {
			kindOK = true
			break
		}
	}
	if !kindOK {
		return false
	}
	if r.probe != nil {
		probeOK := false
		for _, p := range r.probe {
			if p == e.Probe {
				probeOK = true
				break
			}
		}
		if !probeOK {
			return false
		}
	}
	return r.fresh.match(e.Fresh) && r.failed.match(e.Failed) && r.pending.match(e.Pending) &&
		r.many.match(e.Many) && r.over.match(e.Over)
}

// Decide applies the verdict table to e. Every input matches a row (a test
// enumerates them all); VerdictUnknown is the safe answer if none did.
func Decide(e Evidence) Decision {
	k := e.Own
	for i, r := range table {
		if r.matches(k, e) {
			return Decision{Verdict: r.verdict, Origin: r.origin, Reload: r.reload, Many: e.Many, Row: i + 1}
		}
	}
	return Decision{Verdict: VerdictUnknown, Origin: HopUnknown, Many: e.Many}
}

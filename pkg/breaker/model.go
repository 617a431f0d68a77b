package breaker

import (
	"fmt"
	"time"
)

// Record is a breaker's shared state as the store holds it. The zero Record
// (with a name) is a closed breaker that has never failed: a store returns
// it for a breaker it holds nothing for.
type Record struct {
	// Name is the breaker's name.
	Name string
	// State is the breaker's state; "" reads as Closed.
	State State
	// Failures counts consecutive failures while closed.
	Failures int
	// Successes counts successful probes in the current half-open period.
	Successes int
	// Probes counts the probe slots taken in the current probe round.
	Probes int
	// OpenedAt is when the breaker last opened; zero while closed.
	OpenedAt time.Time
	// ProbeUntil ends the current probe round while half-open: a probe that
	// has not reported by then (its process died) no longer holds its slot,
	// and a new round of SuccessThreshold slots begins.
	ProbeUntil time.Time
	// Trips counts how often the breaker has opened (trip and reopen).
	Trips int64
	// UpdatedAt is when the record was last written.
	UpdatedAt time.Time
	// Version is incremented by every write.
	Version int64
}

// state returns r.State, reading "" as Closed.
func (r Record) state() State {
	if r.State == "" {
		return Closed
	}
	return r.State
}

// Allowed reports whether the guard of ev holds for r at now under cfg
// (defaults applied); the store's write for ev is conditional on the same
// guard:
//
//	failure  closed
//	success  closed with Failures > 0, or half_open
//	trip     closed with Failures >= FailureThreshold
//	probe    open with OpenedAt + CoolDown <= now, or half_open with
//	         Probes < SuccessThreshold or ProbeUntil <= now
//	close    half_open with Successes >= SuccessThreshold
//	reopen   half_open
func Allowed(r Record, ev Event, cfg Config, now time.Time) bool {
	cfg = cfg.WithDefaults()
	if _, err := Next(r.state(), ev); err != nil {
		return false
	}
	switch ev {
	case EvSuccess:
		return r.state() == HalfOpen || r.Failures > 0
	case EvTrip:
		return r.Failures >= cfg.FailureThreshold
	case EvProbe:
		if r.state() == Open {
			return !now.Before(r.OpenedAt.Add(cfg.CoolDown))
		}
		return r.Probes < cfg.SuccessThreshold || !now.Before(r.ProbeUntil)
	case EvClose:
		return r.Successes >= cfg.SuccessThreshold
	}
	return true
}

// Apply returns the record ev leaves behind when applied to r at now: the
// state from the table, the counters as below, UpdatedAt = now and Version
// + 1. It returns an *IllegalTransitionError when the table has no row for
// ev in r's state, and an error wrapping ErrGuard when the row exists but
// Allowed does not hold.
//
//	failure         Failures + 1
//	success         closed: Failures = 0; half_open: Successes + 1
//	trip, reopen    OpenedAt = now, Trips + 1, counters and ProbeUntil zeroed
//	probe           from open: Successes = 0, Probes = 1, ProbeUntil = now + CoolDown;
//	                half_open with a free slot: Probes + 1;
//	                half_open after ProbeUntil: Probes = 1, ProbeUntil = now + CoolDown
//	close           counters, OpenedAt and ProbeUntil zeroed
func Apply(r Record, ev Event, cfg Config, now time.Time) (Record, error) {
	cfg = cfg.WithDefaults()
	from := r.state()
	to, err := Next(from, ev)
	if err != nil {
		return r, err
	}
	if !Allowed(r, ev, cfg, now) {
		return r, fmt.Errorf("breaker %s: event %q from %q: %w", r.Name, ev, from, ErrGuard)
	}
	out := r
	out.State, out.UpdatedAt, out.Version = to, now, r.Version+1
	switch ev {
	case EvFailure:
		out.Failures++
	case EvSuccess:
		if from == Closed {
			out.Failures = 0
		} else {
			out.Successes++
		}
	case EvTrip, EvReopen:
		out.Failures, out.Successes, out.Probes = 0, 0, 0
		out.OpenedAt, out.ProbeUntil = now, time.Time{}
		out.Trips++
	case EvProbe:
		switch {
		case from == Open:
			out.Successes, out.Probes, out.ProbeUntil = 0, 1, now.Add(cfg.CoolDown)
		case r.Probes < cfg.SuccessThreshold:
			out.Probes++
		default:
			out.Probes, out.ProbeUntil = 1, now.Add(cfg.CoolDown)
		}
	case EvClose:
		out.Failures, out.Successes, out.Probes = 0, 0, 0
		out.OpenedAt, out.ProbeUntil = time.Time{}, time.Time{}
	}
	return out, nil
}

// OnFailure returns the event a failed call fires against r: EvFailure
// while closed, EvReopen while half-open. A failure reported while open (a
// call admitted before the breaker opened) fires nothing: ok is false.
func OnFailure(r Record) (ev Event, ok bool) {
	switch r.state() {
	case Closed:
		return EvFailure, true
	case HalfOpen:
		return EvReopen, true
	}
	return "", false
}

// OnSuccess returns the event a successful call fires against r: EvSuccess
// while half-open, or while closed with failures to reset. Otherwise (closed
// without failures, or open) there is nothing to write and ok is false.
func OnSuccess(r Record) (ev Event, ok bool) {
	switch {
	case r.state() == HalfOpen, r.state() == Closed && r.Failures > 0:
		return EvSuccess, true
	}
	return "", false
}

// Settle returns the threshold transition a counted record calls for:
// EvTrip for a closed record whose failures reached FailureThreshold,
// EvClose for a half-open one whose successes reached SuccessThreshold.
func Settle(r Record, cfg Config) (ev Event, ok bool) {
	cfg = cfg.WithDefaults()
	switch {
	case r.state() == Closed && r.Failures >= cfg.FailureThreshold:
		return EvTrip, true
	case r.state() == HalfOpen && r.Successes >= cfg.SuccessThreshold:
		return EvClose, true
	}
	return "", false
}

// Admission is what a breaker does with a call, as Admit decides it.
type Admission struct {
	// Allow is true if the call may be made.
	Allow bool
	// Probe is true if the call is a probe: it needs EvProbe applied (a
	// probe slot) before it is made.
	Probe bool
	// RetryAfter is, for a rejected call, how long until one may be admitted.
	RetryAfter time.Duration
}

// Admit decides what a breaker in state r does with a call at now: a closed
// breaker allows it; an open breaker rejects it until the cool-down has
// passed and then allows it as a probe; a half-open breaker allows it as a
// probe while a probe slot is free or the probe round has ended, and
// rejects it otherwise.
func Admit(r Record, cfg Config, now time.Time) Admission {
	switch {
	case r.state() == Closed:
		return Admission{Allow: true}
	case Allowed(r, EvProbe, cfg, now):
		return Admission{Allow: true, Probe: true}
	}
	return Admission{RetryAfter: RetryAfter(r, cfg, now)}
}

// RetryAfter returns how long until a breaker in state r admits a call: the
// rest of the cool-down while open, the rest of the probe round while
// half-open, zero while closed or once that time has passed.
func RetryAfter(r Record, cfg Config, now time.Time) time.Duration {
	cfg = cfg.WithDefaults()
	var at time.Time
	switch r.state() {
	case Open:
		at = r.OpenedAt.Add(cfg.CoolDown)
	case HalfOpen:
		at = r.ProbeUntil
	default:
		return 0
	}
	return max(0, at.Sub(now))
}

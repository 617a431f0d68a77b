package breaker

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrOpen is matched (via errors.Is) by every *OpenError.
	ErrOpen = errors.New("circuit breaker open")
	// ErrIllegalTransition is matched by every *IllegalTransitionError.
	ErrIllegalTransition = errors.New("illegal breaker transition")
	// ErrGuard is returned by Apply for an event whose guard does not hold
	// (see Allowed).
	ErrGuard = errors.New("breaker guard does not hold")
	// ErrUnknownState is wrapped by ParseState.
	ErrUnknownState = errors.New("unknown breaker state")
	// ErrInvalidConfig is wrapped by New's and Config.Validate's errors.
	ErrInvalidConfig = errors.New("invalid circuit breaker config")
)

// OpenError is returned by Breaker.Do, without calling the function, while
// the breaker is open, or half-open with every probe slot taken. It unwraps
// to ErrOpen.
type OpenError struct {
	// Name is the breaker's name (the dependency).
	Name string
	// State is Open or HalfOpen.
	State State
	// RetryAfter is how long until a call may be admitted again: the rest of
	// the cool-down while open, the rest of the probe round while half-open.
	RetryAfter time.Duration
}

// Error returns a message such as
// `circuit breaker "payment-gateway" is open; retry in 12s`.
func (e *OpenError) Error() string {
	return fmt.Sprintf("circuit breaker %q is %s; retry in %s", e.Name, e.State, e.RetryAfter)
}

// Unwrap returns ErrOpen.
func (e *OpenError) Unwrap() error { return ErrOpen }

// IllegalTransitionError reports that the table has no row for an event in a
// state. It unwraps to ErrIllegalTransition.
type IllegalTransitionError struct {
	From  State
	Event Event
}

// Error returns a message such as
// `illegal breaker transition: event "trip" from state "open"`.
func (e *IllegalTransitionError) Error() string {
	return fmt.Sprintf("illegal breaker transition: event %q from state %q", e.Event, e.From)
}

// Unwrap returns ErrIllegalTransition.
func (e *IllegalTransitionError) Unwrap() error { return ErrIllegalTransition }

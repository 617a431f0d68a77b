package breaker

import (
	"fmt"
	"slices"
)

// State is a breaker's state.
type State string

// A breaker's states.
const (
	// Closed lets calls through and counts consecutive failures.
	Closed State = "closed"
	// Open rejects calls without making them until the cool-down has passed.
	Open State = "open"
	// HalfOpen lets a limited number of probe calls through: enough
	// successes close the breaker, any failure opens it again.
	HalfOpen State = "half_open"
)

// Event is something that happens to a breaker.
type Event string

// A breaker's events.
const (
	// EvFailure counts a failed call while closed.
	EvFailure Event = "failure"
	// EvSuccess resets the failure count while closed and counts a
	// successful probe while half-open.
	EvSuccess Event = "success"
	// EvTrip opens a closed breaker whose failures reached the threshold.
	EvTrip Event = "trip"
	// EvProbe admits a probe call: it moves an open breaker whose cool-down
	// has passed to half-open, or takes a probe slot of a half-open one.
	EvProbe Event = "probe"
	// EvClose closes a half-open breaker whose probes succeeded often enough.
	EvClose Event = "close"
	// EvReopen opens a half-open breaker again after a failed call.
	EvReopen Event = "reopen"
)

var (
	allStates = []State{Closed, Open, HalfOpen}
	allEvents = []Event{EvFailure, EvSuccess, EvTrip, EvProbe, EvClose, EvReopen}
)

// AllStates returns the states in a fixed order. The caller owns the slice.
func AllStates() []State { return slices.Clone(allStates) }

// AllEvents returns the events in a fixed order. The caller owns the slice.
func AllEvents() []Event { return slices.Clone(allEvents) }

// ParseState returns the state named s; an error wrapping ErrUnknownState
// if there is none.
func ParseState(s string) (State, error) {
	if slices.Contains(allStates, State(s)) {
		return State(s), nil
	}
	return "", fmt.Errorf("breaker state %q: %w", s, ErrUnknownState)
}

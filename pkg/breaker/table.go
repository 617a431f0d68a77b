package breaker

import "slices"

// Transition is one row of the transition table: Event moves a breaker from
// state From to state To.
type Transition struct {
	From  State
	Event Event
	To    State
}

// rows is the breaker machine. Which row fires for an outcome depends on the
// record's counters; those guards are Allowed's.
var rows = []Transition{
	{Closed, EvFailure, Closed},
	{Closed, EvSuccess, Closed},
	{Closed, EvTrip, Open},

	{Open, EvProbe, HalfOpen},

	{HalfOpen, EvProbe, HalfOpen},
	{HalfOpen, EvSuccess, HalfOpen},
	{HalfOpen, EvClose, Closed},
	{HalfOpen, EvReopen, Open},
}

type rowKey struct {
	from State
	ev   Event
}

var next = func() map[rowKey]State {
	m := make(map[rowKey]State, len(rows))
	for _, r := range rows {
		k := rowKey{r.From, r.Event}
		if _, dup := m[k]; dup {
			panic("breaker: duplicate row for event " + string(r.Event) + " from " + string(r.From))
		}
		m[k] = r.To
	}
	return m
}()

// Transitions returns every row of the table in a fixed order (grouped by
// source state). The caller owns the slice.
func Transitions() []Transition { return slices.Clone(rows) }

// Next returns the state ev moves a breaker to from state from. It returns
// an *IllegalTransitionError (matching ErrIllegalTransition) when the table
// has no such row, including for an unknown state or event.
func Next(from State, ev Event) (State, error) {
	to, ok := next[rowKey{from, ev}]
	if !ok {
		return "", &IllegalTransitionError{From: from, Event: ev}
	}
	return to, nil
}

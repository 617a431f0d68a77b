package statemachine

import "fmt"

// Transition is one row of a transition table: Event moves a record from
// state From to state To. It also describes one hop of a path (see TaskPath
// and StepPath).
type Transition[S ~string, E ~string] struct {
	From  S
	Event E
	To    S
}

// key identifies a row by the pair the lookup starts from.
type key[S ~string, E ~string] struct {
	from  S
	event E
}

// table is a machine's rows in declaration order, indexed by (from, event).
type table[S ~string, E ~string] struct {
	machine string
	rows    []Transition[S, E]
	next    map[key[S, E]]S
}

// newTable indexes rows. It panics on two rows with the same (from, event):
// that is a bug in the table literal, caught at package initialisation.
func newTable[S ~string, E ~string](machine string, rows []Transition[S, E]) table[S, E] {
	next := make(map[key[S, E]]S, len(rows))
	for _, r := range rows {
		k := key[S, E]{from: r.From, event: r.Event}
		if _, dup := next[k]; dup {
			panic(fmt.Sprintf("statemachine: duplicate %s row for event %q from state %q", machine, r.Event, r.From))
		}
		next[k] = r.To
	}
	return table[S, E]{machine: machine, rows: rows, next: next}
}

// lookup returns the state ev leads to from from, or an *IllegalTransitionError.
func (t table[S, E]) lookup(from S, ev E) (S, error) {
	to, ok := t.next[key[S, E]{from: from, event: ev}]
	if !ok {
		var zero S
		return zero, &IllegalTransitionError{Machine: t.machine, From: string(from), Event: string(ev)}
	}
	return to, nil
}

// path applies evs in order from from and returns one Transition per event.
// It stops at the first event the table refuses and names its position.
func (t table[S, E]) path(from S, evs []E) ([]Transition[S, E], error) {
	hops := make([]Transition[S, E], 0, len(evs))
	cur := from
	for i, ev := range evs {
		to, err := t.lookup(cur, ev)
		if err != nil {
			return nil, fmt.Errorf("hop %d of %d: %w", i+1, len(evs), err)
		}
		hops = append(hops, Transition[S, E]{From: cur, Event: ev, To: to})
		cur = to
	}
	return hops, nil
}

// apply is path that keeps only the final state; no events leave from as is.
func (t table[S, E]) apply(from S, evs []E) (S, error) {
	hops, err := t.path(from, evs)
	if err != nil {
		var zero S
		return zero, err
	}
	if len(hops) == 0 {
		return from, nil
	}
	return hops[len(hops)-1].To, nil
}

package statemachine

import (
	"slices"
	"testing"
)

func TestStepStatesAndEventsAreExactlyTaskers(t *testing.T) {
	t.Parallel()
	if got := asStrings(AllStepStates()); !slices.Equal(got, wantStepStates) {
		t.Errorf("AllStepStates() = %q, want %q", got, wantStepStates)
	}
	if got := asStrings(AllStepEvents()); !slices.Equal(got, wantStepEvents) {
		t.Errorf("AllStepEvents() = %q, want %q", got, wantStepEvents)
	}
	if len(wantStepNext) != len(wantStepStates) {
		t.Errorf("wantStepNext covers %d states, want %d", len(wantStepNext), len(wantStepStates))
	}
}

// TestNextStepExhaustive checks every (state, event) pair of the cross
// product against wantStepNext.
func TestNextStepExhaustive(t *testing.T) {
	t.Parallel()
	for _, from := range wantStepStates {
		for _, ev := range wantStepEvents {
			t.Run(from+"/"+ev, func(t *testing.T) {
				t.Parallel()
				got, err := NextStep(StepState(from), StepEvent(ev))
				if want, legal := wantStepNext[from][ev]; legal {
					if err != nil || got != StepState(want) {
						t.Fatalf("NextStep(%q, %q) = %q, %v; want %q, nil", from, ev, got, err, want)
					}
					return
				}
				requireIllegal(t, err, MachineStep, from, ev)
				if got != "" {
					t.Fatalf("NextStep(%q, %q) returned state %q with its error", from, ev, got)
				}
			})
		}
	}
}

func TestStepTransitionsListsExactlyTheTable(t *testing.T) {
	t.Parallel()
	rows := StepTransitions()
	if len(rows) != countRows(wantStepNext) {
		t.Fatalf("StepTransitions() has %d rows, want %d", len(rows), countRows(wantStepNext))
	}
	seen := make(map[[2]string]bool, len(rows))
	for _, r := range rows {
		k := [2]string{string(r.From), string(r.Event)}
		if seen[k] {
			t.Errorf("duplicate row %+v", r)
		}
		seen[k] = true
		if want := wantStepNext[string(r.From)][string(r.Event)]; string(r.To) != want {
			t.Errorf("row %+v: want To %q", r, want)
		}
	}
}

func TestStepListsAreCopies(t *testing.T) {
	t.Parallel()
	rows := StepTransitions()
	rows[0].To = StepError
	if got := StepTransitions()[0].To; got != StepEnqueued {
		t.Errorf("StepTransitions()[0].To = %q after the caller changed its copy", got)
	}
	states := AllStepStates()
	states[0] = "bogus"
	if got := AllStepStates()[0]; got != StepPending {
		t.Errorf("AllStepStates()[0] = %q after the caller changed its copy", got)
	}
	events := AllStepEvents()
	events[0] = "bogus"
	if got := AllStepEvents()[0]; got != StepEvEnqueue {
		t.Errorf("AllStepEvents()[0] = %q after the caller changed its copy", got)
	}
}

func TestStepStatePredicates(t *testing.T) {
	t.Parallel()
	for _, s := range wantStepStates {
		st := StepState(s)
		if !st.Valid() {
			t.Errorf("%q.Valid() = false", s)
		}
		if got := st.Terminal(); got != wantStepTerminal[s] {
			t.Errorf("%q.Terminal() = %v, want %v", s, got, wantStepTerminal[s])
		}
		if got := st.SatisfiesDependency(); got != wantStepSatisfies[s] {
			t.Errorf("%q.SatisfiesDependency() = %v, want %v", s, got, wantStepSatisfies[s])
		}
		if got := st.Active(); got != wantStepActive[s] {
			t.Errorf("%q.Active() = %v, want %v", s, got, wantStepActive[s])
		}
	}
	for _, st := range []StepState{"", "Pending", "initializing", "failed", "complete "} {
		if st.Valid() || st.Terminal() || st.SatisfiesDependency() || st.Active() {
			t.Errorf("%q: a predicate holds for an unknown state", st)
		}
	}
	for _, ev := range wantStepEvents {
		if !StepEvent(ev).Valid() {
			t.Errorf("%q.Valid() = false", ev)
		}
	}
	for _, ev := range []StepEvent{"", "reset", "Enqueue"} {
		if ev.Valid() {
			t.Errorf("%q.Valid() = true", ev)
		}
	}
}

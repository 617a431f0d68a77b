package statemachine

import (
	"errors"
	"slices"
	"testing"
)

func TestTaskStatesAndEventsAreExactlyTaskers(t *testing.T) {
	t.Parallel()
	if got := asStrings(AllTaskStates()); !slices.Equal(got, wantTaskStates) {
		t.Errorf("AllTaskStates() = %q, want %q", got, wantTaskStates)
	}
	if got := asStrings(AllTaskEvents()); !slices.Equal(got, wantTaskEvents) {
		t.Errorf("AllTaskEvents() = %q, want %q", got, wantTaskEvents)
	}
	if len(wantTaskNext) != len(wantTaskStates) {
		t.Errorf("wantTaskNext covers %d states, want %d", len(wantTaskNext), len(wantTaskStates))
	}
}

// TestNextTaskExhaustive checks every (state, event) pair of the cross
// product against wantTaskNext.
func TestNextTaskExhaustive(t *testing.T) {
	t.Parallel()
	for _, from := range wantTaskStates {
		for _, ev := range wantTaskEvents {
			t.Run(from+"/"+ev, func(t *testing.T) {
				t.Parallel()
				got, err := NextTask(TaskState(from), TaskEvent(ev))
				if want, legal := wantTaskNext[from][ev]; legal {
					if err != nil || got != TaskState(want) {
						t.Fatalf("NextTask(%q, %q) = %q, %v; want %q, nil", from, ev, got, err, want)
					}
					return
				}
				requireIllegal(t, err, MachineTask, from, ev)
				if got != "" {
					t.Fatalf("NextTask(%q, %q) returned state %q with its error", from, ev, got)
				}
			})
		}
	}
}

func TestTaskTransitionsListsExactlyTheTable(t *testing.T) {
	t.Parallel()
	rows := TaskTransitions()
	if len(rows) != countRows(wantTaskNext) {
		t.Fatalf("TaskTransitions() has %d rows, want %d", len(rows), countRows(wantTaskNext))
	}
	seen := make(map[[2]string]bool, len(rows))
	for _, r := range rows {
		k := [2]string{string(r.From), string(r.Event)}
		if seen[k] {
			t.Errorf("duplicate row %+v", r)
		}
		seen[k] = true
		if want := wantTaskNext[string(r.From)][string(r.Event)]; string(r.To) != want {
			t.Errorf("row %+v: want To %q", r, want)
		}
	}
}

func TestTaskListsAreCopies(t *testing.T) {
	t.Parallel()
	rows := TaskTransitions()
	rows[0].To = TaskError
	if got := TaskTransitions()[0].To; got != TaskInitializing {
		t.Errorf("TaskTransitions()[0].To = %q after the caller changed its copy", got)
	}
	states := AllTaskStates()
	states[0] = "bogus"
	if got := AllTaskStates()[0]; got != TaskPending {
		t.Errorf("AllTaskStates()[0] = %q after the caller changed its copy", got)
	}
	events := AllTaskEvents()
	events[0] = "bogus"
	if got := AllTaskEvents()[0]; got != TaskEvStart {
		t.Errorf("AllTaskEvents()[0] = %q after the caller changed its copy", got)
	}
}

func TestTaskStatePredicates(t *testing.T) {
	t.Parallel()
	for _, s := range wantTaskStates {
		st := TaskState(s)
		if !st.Valid() {
			t.Errorf("%q.Valid() = false", s)
		}
		if got := st.Terminal(); got != wantTaskTerminal[s] {
			t.Errorf("%q.Terminal() = %v, want %v", s, got, wantTaskTerminal[s])
		}
	}
	for _, st := range []TaskState{"", "Pending", "in_progress", "enqueued", "complete "} {
		if st.Valid() || st.Terminal() {
			t.Errorf("%q: Valid() = %v, Terminal() = %v; want false, false", st, st.Valid(), st.Terminal())
		}
	}
	for _, ev := range wantTaskEvents {
		if !TaskEvent(ev).Valid() {
			t.Errorf("%q.Valid() = false", ev)
		}
	}
	for _, ev := range []TaskEvent{"", "timeout", "processor_crashed", "Start"} {
		if ev.Valid() {
			t.Errorf("%q.Valid() = true", ev)
		}
	}
}

// requireIllegal fails the test unless err is an *IllegalTransitionError for
// the given machine, state and event that matches ErrIllegalTransition.
func requireIllegal(t *testing.T, err error, machine, from, ev string) {
	t.Helper()
	if !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("error %v does not match ErrIllegalTransition", err)
	}
	var ite *IllegalTransitionError
	if !errors.As(err, &ite) {
		t.Fatalf("error %v (%T) is not an *IllegalTransitionError", err, err)
	}
	want := IllegalTransitionError{Machine: machine, From: from, Event: ev}
	if *ite != want {
		t.Fatalf("IllegalTransitionError = %+v, want %+v", *ite, want)
	}
}

package statemachine

import (
	"maps"
	"testing"
)

// reachable returns the states reachable from start (start included).
func reachable[S ~string, E ~string](rows []Transition[S, E], start S) map[S]bool {
	seen := map[S]bool{start: true}
	queue := []S{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, r := range rows {
			if r.From == cur && !seen[r.To] {
				seen[r.To] = true
				queue = append(queue, r.To)
			}
		}
	}
	return seen
}

// exits returns the rows leaving from, as event → to.
func exits[S ~string, E ~string](rows []Transition[S, E], from S) map[string]string {
	out := make(map[string]string)
	for _, r := range rows {
		if r.From == from {
			out[string(r.Event)] = string(r.To)
		}
	}
	return out
}

func TestEveryTaskStateIsReachableFromPending(t *testing.T) {
	t.Parallel()
	seen := reachable(TaskTransitions(), TaskPending)
	for _, s := range AllTaskStates() {
		if !seen[s] {
			t.Errorf("task state %q is not reachable from pending", s)
		}
	}
}

func TestEveryStepStateIsReachableFromPending(t *testing.T) {
	t.Parallel()
	seen := reachable(StepTransitions(), StepPending)
	for _, s := range AllStepStates() {
		if !seen[s] {
			t.Errorf("step state %q is not reachable from pending", s)
		}
	}
}

func TestEveryNonTerminalTaskStateCanFinish(t *testing.T) {
	t.Parallel()
	rows := TaskTransitions()
	for _, s := range AllTaskStates() {
		if s.Terminal() {
			continue
		}
		seen := reachable(rows, s)
		if !seen[TaskComplete] {
			t.Errorf("task state %q cannot reach complete", s)
		}
		for _, end := range []TaskState{TaskError, TaskCancelled, TaskResolvedManually} {
			if !seen[end] {
				t.Errorf("task state %q cannot reach %q", s, end)
			}
		}
	}
}

func TestEveryNonTerminalStepStateCanFinish(t *testing.T) {
	t.Parallel()
	rows := StepTransitions()
	for _, s := range AllStepStates() {
		if s.Terminal() {
			continue
		}
		seen := reachable(rows, s)
		for _, end := range []StepState{StepComplete, StepCancelled, StepResolvedManually} {
			if !seen[end] {
				t.Errorf("step state %q cannot reach %q", s, end)
			}
		}
	}
}

// TestTerminalStatesOnlyHaveDocumentedExits pins the exits from terminal
// states: only a task in error can move again (reset, resolve_manually).
func TestTerminalStatesOnlyHaveDocumentedExits(t *testing.T) {
	t.Parallel()
	taskExits := map[string]map[string]string{
		"complete":          {},
		"error":             {"reset": "pending", "resolve_manually": "resolved_manually"},
		"cancelled":         {},
		"resolved_manually": {},
	}
	for _, s := range AllTaskStates() {
		if !s.Terminal() {
			continue
		}
		want, documented := taskExits[string(s)]
		if !documented {
			t.Errorf("task state %q is terminal but not in the documented list", s)
			continue
		}
		if got := exits(TaskTransitions(), s); !maps.Equal(got, want) {
			t.Errorf("exits from task state %q = %v, want %v", s, got, want)
		}
	}
	for _, s := range AllStepStates() {
		if !s.Terminal() {
			continue
		}
		if got := exits(StepTransitions(), s); len(got) != 0 {
			t.Errorf("terminal step state %q has exits %v", s, got)
		}
	}
}

// TestManualActionsSpareFinishedSteps pins the narrowing of Tasker's
// "any state" manual rows: never from complete, cancelled or
// resolved_manually; from every other state.
func TestManualActionsSpareFinishedSteps(t *testing.T) {
	t.Parallel()
	for _, s := range AllStepStates() {
		for _, ev := range []StepEvent{StepEvResolveManually, StepEvCompleteManually, StepEvCancel} {
			_, err := NextStep(s, ev)
			if s.Terminal() && err == nil {
				t.Errorf("%q allowed from terminal step state %q", ev, s)
			}
			if !s.Terminal() && err != nil {
				t.Errorf("%q refused from step state %q: %v", ev, s, err)
			}
		}
	}
	for _, s := range AllTaskStates() {
		_, cancelErr := NextTask(s, TaskEvCancel)
		if s.Terminal() == (cancelErr == nil) {
			t.Errorf("cancel from task state %q: err = %v, terminal = %v", s, cancelErr, s.Terminal())
		}
		_, resolveErr := NextTask(s, TaskEvResolveManually)
		if wantOK := !s.Terminal() || s == TaskError; wantOK != (resolveErr == nil) {
			t.Errorf("resolve_manually from task state %q: err = %v", s, resolveErr)
		}
	}
}

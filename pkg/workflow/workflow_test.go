package workflow_test

import (
	"strings"
	"testing"

	"github.com/tasker-go/tasker/pkg/protocol"

	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// TestDeriveSatisfied: a listing of a task's steps counts a dependency as
// met when that step completed, was resolved by hand, or failed and was
// released; a counting step keeps its own count.
func TestDeriveSatisfied(t *testing.T) {
	step := func(name string, st statemachine.StepState, deps ...string) *workflow.Step {
		return &workflow.Step{Name: name, State: st, Dependencies: deps}
	}
	for _, tc := range []struct {
		name     string
		b        *workflow.Step
		wantMet  bool
		counting bool
	}{
		{"complete", step("b", statemachine.StepComplete), true, false},
		{"resolved by hand", step("b", statemachine.StepResolvedManually), true, false},
		{"failed and released", &workflow.Step{Name: "b", State: statemachine.StepError, Released: true}, true, false},
		{"failed", step("b", statemachine.StepError), false, false},
		{"in progress", step("b", statemachine.StepInProgress), false, false},
		{"counting step", step("b", statemachine.StepComplete), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := step("c", statemachine.StepPending, "a", "b")
			c.CountsDependencies, c.Remaining = tc.counting, 2
			workflow.DeriveSatisfied([]*workflow.Step{step("a", statemachine.StepComplete), tc.b, c})
			if got := c.DependenciesMet(); got != tc.wantMet {
				t.Fatalf("dependencies met %v, want %v (satisfied %v)", got, tc.wantMet, c.Satisfied)
			}
		})
	}
}

// TestDerivedStepUUID: the same task and name give the same canonical
// version 8 UUID; another name or task another.
func TestDerivedStepUUID(t *testing.T) {
	a := workflow.DerivedStepUUID("01a21cb7-e2c4-757a-a698-89cb9b786c74", "ship")
	if a != workflow.DerivedStepUUID("01a21cb7-e2c4-757a-a698-89cb9b786c74", "ship") {
		t.Fatal("not deterministic")
	}
	if !protocol.ValidUUID(a) || a[14] != '8' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Fatalf("%q is not a canonical version 8 UUID", a)
	}
	if a == workflow.DerivedStepUUID("01a21cb7-e2c4-757a-a698-89cb9b786c74", "confirm") ||
		a == workflow.DerivedStepUUID("01a21cb7-e2c4-757a-a698-89cb9b786c75", "ship") {
		t.Fatal("collision")
	}
}

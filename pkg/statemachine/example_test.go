package statemachine_test

import (
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/statemachine"
)

// The engine checks all the hops it records in one write before writing.
func ExampleApplyTask() {
	to, err := statemachine.ApplyTask(statemachine.TaskStepsInProcess,
		statemachine.TaskEvAllStepsCompleted,
		statemachine.TaskEvAllStepsSuccessful,
	)
	fmt.Println(to, err)
	// Output: complete <nil>
}

// TaskPath returns one Transition per hop, for the audit trail.
func ExampleTaskPath() {
	hops, _ := statemachine.TaskPath(statemachine.TaskPending,
		statemachine.TaskEvStart,
		statemachine.TaskEvReadyStepsFound,
		statemachine.TaskEvStepsEnqueued,
	)
	for _, h := range hops {
		fmt.Printf("%s --%s--> %s\n", h.From, h.Event, h.To)
	}
	// Output:
	// pending --start--> initializing
	// initializing --ready_steps_found--> enqueuing_steps
	// enqueuing_steps --steps_enqueued--> steps_in_process
}

// A refused event is an *IllegalTransitionError that matches
// ErrIllegalTransition.
func ExampleNextStep() {
	_, err := statemachine.NextStep(statemachine.StepComplete, statemachine.StepEvResolveManually)
	fmt.Println(err)
	fmt.Println(errors.Is(err, statemachine.ErrIllegalTransition))
	// Output:
	// illegal step transition: event "resolve_manually" from state "complete"
	// true
}

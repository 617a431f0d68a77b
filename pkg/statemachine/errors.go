package statemachine

import (
	"errors"
	"fmt"
)

// Machine names carried by IllegalTransitionError.Machine.
const (
	MachineTask = "task"
	MachineStep = "step"
)

// ErrIllegalTransition is matched (via errors.Is) by every
// *IllegalTransitionError, for callers that only need to know that the table
// refused an event.
var ErrIllegalTransition = errors.New("illegal transition")

// ErrUnknownState is wrapped by ParseTaskState and ParseStepState when the
// input names no state of the machine.
var ErrUnknownState = errors.New("unknown state")

// ErrUnknownEvent is wrapped by ParseTaskEvent and ParseStepEvent when the
// input names no event of the machine.
var ErrUnknownEvent = errors.New("unknown event")

// IllegalTransitionError reports that a machine's table has no row for an
// event in a state. It is returned as a pointer and unwraps to
// ErrIllegalTransition.
type IllegalTransitionError struct {
	// Machine is MachineTask or MachineStep.
	Machine string
	// From is the state the event was applied to.
	From string
	// Event is the refused event.
	Event string
}

// Error returns a message such as
// `illegal task transition: event "start" from state "complete"`.
func (e *IllegalTransitionError) Error() string {
	return fmt.Sprintf("illegal %s transition: event %q from state %q", e.Machine, e.Event, e.From)
}

// Unwrap returns ErrIllegalTransition, so that
// errors.Is(err, ErrIllegalTransition) holds for every IllegalTransitionError.
func (e *IllegalTransitionError) Unwrap() error {
	return ErrIllegalTransition
}

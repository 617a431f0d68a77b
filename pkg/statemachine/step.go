package statemachine

import (
	"fmt"
	"slices"
)

// StepState is the state of a workflow step, stored as the snake_case string
// Tasker Core uses.
type StepState string

// The ten step states. Complete, cancelled and resolved_manually are
// terminal; error is not, because a step in error can be retried or reset.
const (
	StepPending                         StepState = "pending"
	StepEnqueued                        StepState = "enqueued"
	StepInProgress                      StepState = "in_progress"
	StepEnqueuedForOrchestration        StepState = "enqueued_for_orchestration"
	StepEnqueuedAsErrorForOrchestration StepState = "enqueued_as_error_for_orchestration"
	StepWaitingForRetry                 StepState = "waiting_for_retry"
	StepComplete                        StepState = "complete"
	StepError                           StepState = "error"
	StepCancelled                       StepState = "cancelled"
	StepResolvedManually                StepState = "resolved_manually"
)

var stepStates = []StepState{
	StepPending, StepEnqueued, StepInProgress, StepEnqueuedForOrchestration,
	StepEnqueuedAsErrorForOrchestration, StepWaitingForRetry, StepComplete,
	StepError, StepCancelled, StepResolvedManually,
}

// StepEvent is an event of the step machine, named as Tasker Core names it in
// its audit trail.
type StepEvent string

// The step events.
const (
	StepEvEnqueue                        StepEvent = "enqueue"
	StepEvStart                          StepEvent = "start"
	StepEvEnqueueForOrchestration        StepEvent = "enqueue_for_orchestration"
	StepEvEnqueueAsErrorForOrchestration StepEvent = "enqueue_as_error_for_orchestration"
	StepEvComplete                       StepEvent = "complete"
	StepEvFail                           StepEvent = "fail"
	StepEvWaitForRetry                   StepEvent = "wait_for_retry"
	StepEvRetry                          StepEvent = "retry"
	StepEvResetForRetry                  StepEvent = "reset_for_retry"
	StepEvCancel                         StepEvent = "cancel"
	StepEvResolveManually                StepEvent = "resolve_manually"
	StepEvCompleteManually               StepEvent = "complete_manually"
)

var stepEvents = []StepEvent{
	StepEvEnqueue, StepEvStart, StepEvEnqueueForOrchestration,
	StepEvEnqueueAsErrorForOrchestration, StepEvComplete, StepEvFail,
	StepEvWaitForRetry, StepEvRetry, StepEvResetForRetry, StepEvCancel,
	StepEvResolveManually, StepEvCompleteManually,
}

// AllStepStates returns the ten step states in declaration order. The caller
// owns the returned slice.
func AllStepStates() []StepState { return slices.Clone(stepStates) }

// AllStepEvents returns the step events in declaration order. The caller owns
// the returned slice.
func AllStepEvents() []StepEvent { return slices.Clone(stepEvents) }

// Valid reports whether s is one of the ten step states.
func (s StepState) Valid() bool { return slices.Contains(stepStates, s) }

// Terminal reports whether s has no outgoing transition: complete, cancelled
// or resolved_manually. Error is not terminal (it can be retried or reset),
// following Tasker Core's code rather than its docs.
func (s StepState) Terminal() bool {
	switch s {
	case StepComplete, StepCancelled, StepResolvedManually:
		return true
	}
	return false
}

// SatisfiesDependency reports whether a step in state s lets the steps that
// depend on it run: complete or resolved_manually.
func (s StepState) SatisfiesDependency() bool {
	return s == StepComplete || s == StepResolvedManually
}

// Active reports whether a step in state s has work in flight: enqueued for a
// worker, being run, or with a result waiting for orchestration.
func (s StepState) Active() bool {
	switch s {
	case StepEnqueued, StepInProgress, StepEnqueuedForOrchestration, StepEnqueuedAsErrorForOrchestration:
		return true
	}
	return false
}

// Valid reports whether ev is one of the step events.
func (ev StepEvent) Valid() bool { return slices.Contains(stepEvents, ev) }

// ParseStepState returns the step state named s. It returns an error wrapping
// ErrUnknownState if s names none; matching is exact (case-sensitive).
func ParseStepState(s string) (StepState, error) {
	if st := StepState(s); st.Valid() {
		return st, nil
	}
	return "", fmt.Errorf("parse step state %q: %w", s, ErrUnknownState)
}

// ParseStepEvent returns the step event named s. It returns an error wrapping
// ErrUnknownEvent if s names none; matching is exact (case-sensitive).
func ParseStepEvent(s string) (StepEvent, error) {
	if ev := StepEvent(s); ev.Valid() {
		return ev, nil
	}
	return "", fmt.Errorf("parse step event %q: %w", s, ErrUnknownEvent)
}

package statemachine

import "slices"

type stepRow = Transition[StepState, StepEvent]

// stepTable is the step machine: Tasker Core's rows (step_state_machine.rs,
// determine_target_state_internal), grouped by source state, with
// resolve_manually and complete_manually narrowed from "any state" to the
// states that are not terminal. docs/state-machines.md explains each choice.
// Tasker's data guards (dependencies met, step not already running, retry
// still allowed) are the engine's to check before it writes.
var stepTable = newTable(MachineStep, []stepRow{
	{StepPending, StepEvEnqueue, StepEnqueued},
	{StepPending, StepEvStart, StepInProgress}, // legacy: claim without enqueue
	{StepPending, StepEvWaitForRetry, StepWaitingForRetry},
	{StepPending, StepEvFail, StepError},
	{StepPending, StepEvCancel, StepCancelled},
	{StepPending, StepEvResolveManually, StepResolvedManually},
	{StepPending, StepEvCompleteManually, StepComplete},

	{StepEnqueued, StepEvStart, StepInProgress},
	{StepEnqueued, StepEvWaitForRetry, StepWaitingForRetry},
	{StepEnqueued, StepEvFail, StepError},
	{StepEnqueued, StepEvCancel, StepCancelled},
	{StepEnqueued, StepEvResolveManually, StepResolvedManually},
	{StepEnqueued, StepEvCompleteManually, StepComplete},

	{StepInProgress, StepEvEnqueueForOrchestration, StepEnqueuedForOrchestration},
	{StepInProgress, StepEvEnqueueAsErrorForOrchestration, StepEnqueuedAsErrorForOrchestration},
	{StepInProgress, StepEvComplete, StepComplete},            // legacy direct path
	{StepInProgress, StepEvFail, StepError},                   // legacy direct path
	{StepInProgress, StepEvWaitForRetry, StepWaitingForRetry}, // legacy direct path
	{StepInProgress, StepEvCancel, StepCancelled},
	{StepInProgress, StepEvResolveManually, StepResolvedManually},
	{StepInProgress, StepEvCompleteManually, StepComplete},

	{StepEnqueuedForOrchestration, StepEvComplete, StepComplete},
	{StepEnqueuedForOrchestration, StepEvFail, StepError},
	{StepEnqueuedForOrchestration, StepEvCancel, StepCancelled},
	{StepEnqueuedForOrchestration, StepEvResolveManually, StepResolvedManually},
	{StepEnqueuedForOrchestration, StepEvCompleteManually, StepComplete},

	{StepEnqueuedAsErrorForOrchestration, StepEvWaitForRetry, StepWaitingForRetry},
	{StepEnqueuedAsErrorForOrchestration, StepEvFail, StepError},
	{StepEnqueuedAsErrorForOrchestration, StepEvComplete, StepComplete},
	{StepEnqueuedAsErrorForOrchestration, StepEvCancel, StepCancelled},
	{StepEnqueuedAsErrorForOrchestration, StepEvResolveManually, StepResolvedManually},
	{StepEnqueuedAsErrorForOrchestration, StepEvCompleteManually, StepComplete},

	{StepWaitingForRetry, StepEvRetry, StepPending},
	{StepWaitingForRetry, StepEvCancel, StepCancelled},
	{StepWaitingForRetry, StepEvResolveManually, StepResolvedManually},
	{StepWaitingForRetry, StepEvCompleteManually, StepComplete},

	{StepError, StepEvRetry, StepPending},         // guarded: only while retry-eligible
	{StepError, StepEvResetForRetry, StepPending}, // operator action; zeroes attempts
	{StepError, StepEvCancel, StepCancelled},
	{StepError, StepEvResolveManually, StepResolvedManually},
	{StepError, StepEvCompleteManually, StepComplete},
})

// StepTransitions returns every row of the step machine in a fixed order
// (grouped by source state). The caller owns the returned slice.
func StepTransitions() []Transition[StepState, StepEvent] {
	return slices.Clone(stepTable.rows)
}

// NextStep returns the state event ev moves a step to from state from. It
// returns an *IllegalTransitionError (matching ErrIllegalTransition) if the
// table has no such row, including when from or ev is unknown.
func NextStep(from StepState, ev StepEvent) (StepState, error) {
	return stepTable.lookup(from, ev)
}

// ApplyStep applies evs to a step in state from, in order, and returns the
// final state; with no events it returns from. It fails on the first event
// the table refuses, with an error that names the hop and wraps an
// *IllegalTransitionError.
func ApplyStep(from StepState, evs ...StepEvent) (StepState, error) {
	return stepTable.apply(from, evs)
}

// StepPath is ApplyStep returning every hop, for recording several
// transitions in one write (one audit entry per hop). With no events it
// returns an empty slice.
func StepPath(from StepState, evs ...StepEvent) ([]Transition[StepState, StepEvent], error) {
	return stepTable.path(from, evs)
}

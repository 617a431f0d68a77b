package statemachine

import "slices"

type taskRow = Transition[TaskState, TaskEvent]

// taskTable is the task machine: Tasker Core's rows (task_state_machine.rs,
// determine_target_state_internal), grouped by source state, with
// resolve_manually narrowed from "any state" to the non-terminal states plus
// error. docs/state-machines.md explains each choice.
var taskTable = newTable(MachineTask, []taskRow{
	{TaskPending, TaskEvStart, TaskInitializing},
	{TaskPending, TaskEvCancel, TaskCancelled},
	{TaskPending, TaskEvResolveManually, TaskResolvedManually},

	{TaskInitializing, TaskEvReadyStepsFound, TaskEnqueuingSteps},
	{TaskInitializing, TaskEvNoStepsFound, TaskComplete},
	{TaskInitializing, TaskEvNoDependenciesReady, TaskWaitingForDependencies},
	{TaskInitializing, TaskEvCancel, TaskCancelled},
	{TaskInitializing, TaskEvResolveManually, TaskResolvedManually},

	{TaskEnqueuingSteps, TaskEvStepsEnqueued, TaskStepsInProcess},
	{TaskEnqueuingSteps, TaskEvEnqueueFailed, TaskError},
	{TaskEnqueuingSteps, TaskEvCancel, TaskCancelled},
	{TaskEnqueuingSteps, TaskEvResolveManually, TaskResolvedManually},

	{TaskStepsInProcess, TaskEvStepCompleted, TaskEvaluatingResults},
	{TaskStepsInProcess, TaskEvAllStepsCompleted, TaskEvaluatingResults},
	{TaskStepsInProcess, TaskEvStepFailed, TaskWaitingForRetry},
	{TaskStepsInProcess, TaskEvComplete, TaskComplete}, // legacy direct path
	{TaskStepsInProcess, TaskEvFail, TaskError},        // legacy direct path
	{TaskStepsInProcess, TaskEvCancel, TaskCancelled},
	{TaskStepsInProcess, TaskEvResolveManually, TaskResolvedManually},

	{TaskEvaluatingResults, TaskEvAllStepsSuccessful, TaskComplete},
	{TaskEvaluatingResults, TaskEvReadyStepsFound, TaskEnqueuingSteps},
	{TaskEvaluatingResults, TaskEvNoDependenciesReady, TaskWaitingForDependencies},
	{TaskEvaluatingResults, TaskEvPermanentFailure, TaskBlockedByFailures},
	{TaskEvaluatingResults, TaskEvCancel, TaskCancelled},
	{TaskEvaluatingResults, TaskEvResolveManually, TaskResolvedManually},

	{TaskWaitingForDependencies, TaskEvDependenciesReady, TaskEvaluatingResults},
	{TaskWaitingForDependencies, TaskEvCancel, TaskCancelled},
	{TaskWaitingForDependencies, TaskEvResolveManually, TaskResolvedManually},

	{TaskWaitingForRetry, TaskEvRetryReady, TaskEnqueuingSteps},
	{TaskWaitingForRetry, TaskEvCancel, TaskCancelled},
	{TaskWaitingForRetry, TaskEvResolveManually, TaskResolvedManually},

	{TaskBlockedByFailures, TaskEvGiveUp, TaskError},
	{TaskBlockedByFailures, TaskEvManualResolution, TaskResolvedManually},
	{TaskBlockedByFailures, TaskEvCancel, TaskCancelled},
	{TaskBlockedByFailures, TaskEvResolveManually, TaskResolvedManually},

	// error is terminal, but an operator can re-drive the task after fixing
	// a step (legacy reset) or resolve it by hand.
	{TaskError, TaskEvReset, TaskPending},
	{TaskError, TaskEvResolveManually, TaskResolvedManually},
})

// TaskTransitions returns every row of the task machine in a fixed order
// (grouped by source state). The caller owns the returned slice.
func TaskTransitions() []Transition[TaskState, TaskEvent] {
	return slices.Clone(taskTable.rows)
}

// NextTask returns the state event ev moves a task to from state from. It
// returns an *IllegalTransitionError (matching ErrIllegalTransition) if the
// table has no such row, including when from or ev is unknown.
func NextTask(from TaskState, ev TaskEvent) (TaskState, error) {
	return taskTable.lookup(from, ev)
}

// ApplyTask applies evs to a task in state from, in order, and returns the
// final state; with no events it returns from. It fails on the first event
// the table refuses, with an error that names the hop and wraps an
// *IllegalTransitionError.
func ApplyTask(from TaskState, evs ...TaskEvent) (TaskState, error) {
	return taskTable.apply(from, evs)
}

// TaskPath is ApplyTask returning every hop, for recording several
// transitions in one write (one audit entry per hop). With no events it
// returns an empty slice.
func TaskPath(from TaskState, evs ...TaskEvent) ([]Transition[TaskState, TaskEvent], error) {
	return taskTable.path(from, evs)
}

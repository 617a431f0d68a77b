package statemachine

import (
	"fmt"
	"slices"
)

// TaskState is the state of a task, stored as the snake_case string Tasker
// Core uses.
type TaskState string

// The twelve task states. Complete, error, cancelled and resolved_manually
// are terminal.
const (
	TaskPending                TaskState = "pending"
	TaskInitializing           TaskState = "initializing"
	TaskEnqueuingSteps         TaskState = "enqueuing_steps"
	TaskStepsInProcess         TaskState = "steps_in_process"
	TaskEvaluatingResults      TaskState = "evaluating_results"
	TaskWaitingForDependencies TaskState = "waiting_for_dependencies"
	TaskWaitingForRetry        TaskState = "waiting_for_retry"
	TaskBlockedByFailures      TaskState = "blocked_by_failures"
	TaskComplete               TaskState = "complete"
	TaskError                  TaskState = "error"
	TaskCancelled              TaskState = "cancelled"
	TaskResolvedManually       TaskState = "resolved_manually"
)

var taskStates = []TaskState{
	TaskPending, TaskInitializing, TaskEnqueuingSteps, TaskStepsInProcess,
	TaskEvaluatingResults, TaskWaitingForDependencies, TaskWaitingForRetry,
	TaskBlockedByFailures, TaskComplete, TaskError, TaskCancelled,
	TaskResolvedManually,
}

// TaskEvent is an event of the task machine, named as Tasker Core names it in
// its audit trail.
type TaskEvent string

// The task events. Tasker Core's Timeout and ProcessorCrashed events are left
// out: no transition uses them.
const (
	TaskEvStart               TaskEvent = "start"
	TaskEvReadyStepsFound     TaskEvent = "ready_steps_found"
	TaskEvNoStepsFound        TaskEvent = "no_steps_found"
	TaskEvNoDependenciesReady TaskEvent = "no_dependencies_ready"
	TaskEvStepsEnqueued       TaskEvent = "steps_enqueued"
	TaskEvEnqueueFailed       TaskEvent = "enqueue_failed"
	TaskEvStepCompleted       TaskEvent = "step_completed"
	TaskEvAllStepsCompleted   TaskEvent = "all_steps_completed"
	TaskEvStepFailed          TaskEvent = "step_failed"
	TaskEvAllStepsSuccessful  TaskEvent = "all_steps_successful"
	TaskEvPermanentFailure    TaskEvent = "permanent_failure"
	TaskEvDependenciesReady   TaskEvent = "dependencies_ready"
	TaskEvRetryReady          TaskEvent = "retry_ready"
	TaskEvGiveUp              TaskEvent = "give_up"
	TaskEvManualResolution    TaskEvent = "manual_resolution"
	TaskEvCancel              TaskEvent = "cancel"
	TaskEvReset               TaskEvent = "reset"
	TaskEvResolveManually     TaskEvent = "resolve_manually"
	TaskEvComplete            TaskEvent = "complete"
	TaskEvFail                TaskEvent = "fail"
)

var taskEvents = []TaskEvent{
	TaskEvStart, TaskEvReadyStepsFound, TaskEvNoStepsFound,
	TaskEvNoDependenciesReady, TaskEvStepsEnqueued, TaskEvEnqueueFailed,
	TaskEvStepCompleted, TaskEvAllStepsCompleted, TaskEvStepFailed,
	TaskEvAllStepsSuccessful, TaskEvPermanentFailure, TaskEvDependenciesReady,
	TaskEvRetryReady, TaskEvGiveUp, TaskEvManualResolution, TaskEvCancel,
	TaskEvReset, TaskEvResolveManually, TaskEvComplete, TaskEvFail,
}

// AllTaskStates returns the twelve task states in declaration order. The
// caller owns the returned slice.
func AllTaskStates() []TaskState { return slices.Clone(taskStates) }

// AllTaskEvents returns the task events in declaration order. The caller owns
// the returned slice.
func AllTaskEvents() []TaskEvent { return slices.Clone(taskEvents) }

// Valid reports whether s is one of the twelve task states.
func (s TaskState) Valid() bool { return slices.Contains(taskStates, s) }

// Terminal reports whether s ends a task's run: complete, error, cancelled or
// resolved_manually. An operator can still move a task out of error (reset,
// resolve_manually); no other terminal state has an outgoing transition.
func (s TaskState) Terminal() bool {
	switch s {
	case TaskComplete, TaskError, TaskCancelled, TaskResolvedManually:
		return true
	}
	return false
}

// Valid reports whether ev is one of the task events.
func (ev TaskEvent) Valid() bool { return slices.Contains(taskEvents, ev) }

// ParseTaskState returns the task state named s. It returns an error wrapping
// ErrUnknownState if s names none; matching is exact (case-sensitive).
func ParseTaskState(s string) (TaskState, error) {
	if st := TaskState(s); st.Valid() {
		return st, nil
	}
	return "", fmt.Errorf("parse task state %q: %w", s, ErrUnknownState)
}

// ParseTaskEvent returns the task event named s. It returns an error wrapping
// ErrUnknownEvent if s names none; matching is exact (case-sensitive).
func ParseTaskEvent(s string) (TaskEvent, error) {
	if ev := TaskEvent(s); ev.Valid() {
		return ev, nil
	}
	return "", fmt.Errorf("parse task event %q: %w", s, ErrUnknownEvent)
}

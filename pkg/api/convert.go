package api

import (
	"encoding/json"
	"time"

	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Execution statuses, in Tasker Core's priority order.
const (
	ExecBlockedByFailures      = "blocked_by_failures"
	ExecHasReadySteps          = "has_ready_steps"
	ExecProcessing             = "processing"
	ExecAllComplete            = "all_complete"
	ExecWaitingForDependencies = "waiting_for_dependencies"
)

// Recommended actions, one per execution status.
var recommendedAction = map[string]string{
	ExecBlockedByFailures:      "handle_failures",
	ExecHasReadySteps:          "execute_ready_steps",
	ExecProcessing:             "wait_for_completion",
	ExecAllComplete:            "finalize_task",
	ExecWaitingForDependencies: "wait_for_dependencies",
}

// Health statuses.
const (
	HealthHealthy    = "healthy"
	HealthRecovering = "recovering"
	HealthBlocked    = "blocked"
)

// taskResponse builds a task's response. steps are the task's steps; they
// are listed in the response only when withSteps is set, but always counted.
func taskResponse(t *workflow.Task, taskCtx json.RawMessage, steps []*workflow.Step, now time.Time, withSteps bool) TaskResponse {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	out := TaskResponse{
		TaskUUID: t.UUID, Name: t.Name, Namespace: t.Namespace, Version: t.Version, Status: string(t.State),
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, CompletedAt: t.CompletedAt, Context: taskCtx,
		Initiator: t.Initiator, SourceSystem: t.SourceSystem, Reason: t.Reason, Priority: t.Priority, Tags: tags,
		CorrelationID: t.CorrelationID, ParentCorrelationID: t.ParentCorrelationID, Paused: t.Paused,
	}
	var waitingForRetry int
	for _, s := range steps {
		switch s.State {
		case statemachine.StepPending:
			out.PendingSteps++
		case statemachine.StepWaitingForRetry:
			out.PendingSteps++
			waitingForRetry++
		case statemachine.StepComplete, statemachine.StepResolvedManually:
			out.CompletedSteps++
		case statemachine.StepError:
			out.FailedSteps++
		default:
			if s.State.Active() {
				out.InProgressSteps++
			}
		}
		if readyForExecution(s, now) {
			out.ReadySteps++
		}
	}
	out.TotalSteps = len(steps)
	out.ExecutionStatus = executionStatus(out)
	out.RecommendedAction = recommendedAction[out.ExecutionStatus]
	switch {
	case out.FailedSteps > 0:
		out.HealthStatus = HealthBlocked
	case waitingForRetry > 0:
		out.HealthStatus = HealthRecovering
	default:
		out.HealthStatus = HealthHealthy
	}
	if out.TotalSteps > 0 {
		out.CompletionPercentage = float64(out.CompletedSteps) / float64(out.TotalSteps) * 100
	}
	if withSteps {
		out.Steps = make([]StepResponse, 0, len(steps))
		for _, s := range steps {
			out.Steps = append(out.Steps, stepResponse(s, now))
		}
	}
	return out
}

// executionStatus applies Tasker Core's priority order to the counts.
func executionStatus(t TaskResponse) string {
	switch {
	case t.FailedSteps > 0:
		return ExecBlockedByFailures
	case t.ReadySteps > 0:
		return ExecHasReadySteps
	case t.InProgressSteps > 0:
		return ExecProcessing
	case t.CompletedSteps == t.TotalSteps:
		return ExecAllComplete
	default:
		return ExecWaitingForDependencies
	}
}

// retryEligible is Tasker Core's rule: a step that never ran may run, and a
// retryable step may run again while it has attempts left.
func retryEligible(s *workflow.Step) bool {
	return s.Attempts == 0 || (s.Retryable && s.Attempts < s.MaxAttempts)
}

// readyForExecution reports whether the engine would enqueue the step now:
// pending with its dependencies met, or waiting for a retry that is due.
func readyForExecution(s *workflow.Step, now time.Time) bool {
	if !s.DependenciesMet() || !retryEligible(s) {
		return false
	}
	switch s.State {
	case statemachine.StepPending:
		return true
	case statemachine.StepWaitingForRetry:
		return s.NextRetryAt == nil || !s.NextRetryAt.After(now)
	}
	return false
}

func completedParents(s *workflow.Step) int {
	done := make(map[string]bool, len(s.Satisfied))
	for _, d := range s.Satisfied {
		done[d] = true
	}
	n := 0
	for _, d := range s.Dependencies {
		if done[d] {
			n++
		}
	}
	return n
}

// stepResponse builds a step's response. An out-of-line result is marked
// omitted; getStep loads it.
func stepResponse(s *workflow.Step, now time.Time) StepResponse {
	deps := s.Dependencies
	if deps == nil {
		deps = []string{}
	}
	out := StepResponse{
		StepUUID: s.UUID, TaskUUID: s.TaskUUID, Name: s.Name, TemplateStep: s.TemplateStep, Handler: s.Handler,
		StepType: s.Type, CurrentState: string(s.State), Dependencies: deps,
		DependenciesSatisfied: s.DependenciesMet(), RetryEligible: retryEligible(s),
		ReadyForExecution: readyForExecution(s, now), TotalParents: len(s.Dependencies),
		CompletedParents: completedParents(s), Attempts: s.Attempts, MaxAttempts: s.MaxAttempts,
		Retryable: s.Retryable, LastAttemptedAt: s.ClaimedAt, LastFailureAt: s.LastFailure,
		NextRetryAt: s.NextRetryAt, EnqueuedAt: s.EnqueuedAt, CreatedAt: s.CreatedAt, CompletedAt: s.CompletedAt,
		Results: s.Result, ResultsOmitted: len(s.Result) == 0 && s.ResultRef != nil,
		Inputs: s.Inputs, Checkpoint: s.Checkpoint, CreatedBy: s.CreatedBy,
	}
	if e := s.Error; e != nil {
		out.Error = &StepError{Message: e.Message, ErrorType: e.ErrorType, Retryable: e.Retryable, StatusCode: e.StatusCode, Context: e.Context}
	}
	return out
}

// auditEntries converts transitions of one entity.
func auditEntries(entity, stepUUID string, trs []workflow.Transition) []AuditEntry {
	out := make([]AuditEntry, 0, len(trs))
	for _, tr := range trs {
		out = append(out, AuditEntry{
			Entity: entity, StepUUID: stepUUID, FromState: tr.From, ToState: tr.To, Event: tr.Event,
			Attempt: tr.Attempt, CreatedAt: tr.At, Processor: tr.Processor, CorrelationID: tr.CorrelationID, Reason: tr.Reason,
		})
	}
	return out
}

package dynamo

import (
	"context"
	"time"

	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// ClaimGrace is added to a step's timeout before the sweeper treats a claimed
// step as abandoned.
const ClaimGrace = 30 * time.Second

// DefaultStepTimeout applies when a template step sets no timeout_seconds.
const DefaultStepTimeout = 30 * time.Second

// ClaimWindow is how long after its claim an attempt may run before the
// sweeper times it out: the step's timeout (DefaultStepTimeout when not
// positive) plus ClaimGrace.
func ClaimWindow(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	return timeout + ClaimGrace
}

// ClaimStep moves a step from enqueued to in_progress for the given attempt
// (the step must have attempt-1 attempts), recording the transition, the
// worker and the deadline after which the sweeper times the attempt out
// (sweep_at; the step is not put in the sweep index: its task's check reads
// the deadline). A duplicate or stale delivery gets workflow.ErrConflict and
// must not run the handler.
func (s *Store) ClaimStep(ctx context.Context, taskUUID, stepName string, attempt int, timeout time.Duration,
	workerID, correlationID string, now time.Time) (*workflow.Step, error) {
	return s.TransitionStep(ctx, taskUUID, stepName, claimChange(statemachine.StepEnqueued, attempt, timeout, workerID, now,
		startRecord(attempt, workerID, correlationID, now)))
}

// ClaimPendingStep claims a step whose message the engine sent without
// storing the enqueue (a message with from_state "pending": a step made
// ready by its parents' results). It moves the step from pending to
// in_progress in one write that records both transitions, the enqueue at
// the message's enqueued_at and the start at now. Otherwise it is ClaimStep.
func (s *Store) ClaimPendingStep(ctx context.Context, taskUUID, stepName string, attempt int, timeout time.Duration,
	workerID, correlationID string, enqueuedAt, now time.Time) (*workflow.Step, error) {
	if enqueuedAt.IsZero() || enqueuedAt.After(now) {
		enqueuedAt = now
	}
	enqueue := workflow.Transition{
		From: string(statemachine.StepPending), To: string(statemachine.StepEnqueued),
		Event: string(statemachine.StepEvEnqueue), Attempt: attempt, At: enqueuedAt,
	}
	return s.TransitionStep(ctx, taskUUID, stepName, claimChange(statemachine.StepPending, attempt, timeout, workerID, now,
		enqueue, startRecord(attempt, workerID, correlationID, now)))
}

// startRecord is the claim's own transition record.
func startRecord(attempt int, workerID, correlationID string, now time.Time) workflow.Transition {
	return workflow.Transition{
		From: string(statemachine.StepEnqueued), To: string(statemachine.StepInProgress),
		Event: string(statemachine.StepEvStart), Attempt: attempt, At: now,
		Processor: workerID, CorrelationID: correlationID,
	}
}

// claimChange is the guarded write of a claim from state from.
func claimChange(from statemachine.StepState, attempt int, timeout time.Duration, workerID string, now time.Time,
	records ...workflow.Transition) StepChange {
	return StepChange{
		From:        []statemachine.StepState{from},
		Attempts:    attempt - 1,
		To:          statemachine.StepInProgress,
		SetAttempts: &attempt,
		At:          now,
		WorkerID:    workerID,
		Deadline:    now.Add(ClaimWindow(timeout)),
		wireHistory: true,
		Transitions: records,
	}
}

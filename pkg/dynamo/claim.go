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
	return s.TransitionStep(ctx, taskUUID, stepName, StepChange{
		From:        []statemachine.StepState{statemachine.StepEnqueued},
		Attempts:    attempt - 1,
		To:          statemachine.StepInProgress,
		SetAttempts: &attempt,
		At:          now,
		WorkerID:    workerID,
		Deadline:    now.Add(ClaimWindow(timeout)),
		wireHistory: true,
		Transitions: []workflow.Transition{{
			From: string(statemachine.StepEnqueued), To: string(statemachine.StepInProgress),
			Event: string(statemachine.StepEvStart), Attempt: attempt, At: now,
			Processor: workerID, CorrelationID: correlationID,
		}},
	})
}

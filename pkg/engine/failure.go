package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// retrySafety is how long after a retry is due the sweeper steps in if the
// delayed retry message never arrived.
const retrySafety = time.Minute

// applyFailure records a failed attempt: waiting_for_retry with a backoff when
// the step may run again, error otherwise (and then the task fails).
func (e *Engine) applyFailure(ctx context.Context, run *taskRun, step *workflow.Step, attempt int, fail *protocol.StepError) error {
	if step.State != statemachine.StepInProgress || step.Attempts != attempt {
		if step.State == statemachine.StepWaitingForRetry && step.Attempts == attempt {
			return e.sendRetry(ctx, run, step) // redelivery: the change is applied, the message may not be
		}
		if step.State == statemachine.StepError && step.Attempts == attempt {
			return e.afterFinalFailure(ctx, run, step, failureStrategy(step), step.Error != nil && step.Error.Compensate)
		}
		return nil
	}
	ts, ok := run.tpl.Step(step.TemplateStep)
	if !ok {
		return fmt.Errorf("step %s: template step %q not in %s", step.Name, step.TemplateStep, run.tpl.Key())
	}
	now := e.now()
	retry := fail.Retryable && step.Retryable && attempt < step.MaxAttempts
	if !retry {
		reason := "permanent failure"
		if fail.Retryable && step.Retryable {
			reason = fmt.Sprintf("retries exhausted (%d of %d attempts)", attempt, step.MaxAttempts)
		} else if fail.Retryable {
			reason = "step is not retryable"
		}
		strategy := failureStrategy(step)
		if step.Type == StepTypeCompensation {
			reason += "; compensation left for manual cleanup"
			// Recorded before the step is released, so the saga cannot end
			// without it (the set add is idempotent on redelivery).
			if err := e.store.AddCompensationFailure(ctx, run.task.UUID, step.Name, now); err != nil {
				return err
			}
		}
		if strategy != "" && strategy != "fail_fast" {
			reason += "; failure_strategy " + strategy
		}
		trs, err := e.stepTransitions(run, step.State, attempt, now, reason,
			statemachine.StepEvEnqueueAsErrorForOrchestration, statemachine.StepEvFail)
		if err != nil {
			return err
		}
		err = e.store.ApplyStepChange(ctx, run.task.UUID, step.Name, dynamo.StepChange{
			From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: attempt, To: statemachine.StepError,
			At: now, Transitions: trs, Error: fail, Release: strategy == "continue_on_failure" || step.Type == StepTypeCompensation,
		})
		if err != nil {
			if errors.Is(err, workflow.ErrConflict) {
				return nil
			}
			return err
		}
		e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: step.Name, State: string(statemachine.StepError), Attempt: attempt, At: now})
		return e.afterFinalFailure(ctx, run, step, strategy, fail.Compensate)
	}
	policy := ts.Retry
	if step.Type == StepTypeCompensation && ts.Compensation != nil {
		policy = ts.Compensation.Retry
	}
	delay := backoffDelay(policy, attempt, time.Duration(fail.RetryAfterSeconds*float64(time.Second)))
	next := now.Add(delay)
	trs, err := e.stepTransitions(run, step.State, attempt, now, fmt.Sprintf("retry in %s", delay),
		statemachine.StepEvEnqueueAsErrorForOrchestration, statemachine.StepEvWaitForRetry)
	if err != nil {
		return err
	}
	sweep := next
	if delay <= sqsqueue.MaxDelay {
		sweep = next.Add(retrySafety)
	}
	updated, err := e.store.TransitionStep(ctx, run.task.UUID, step.Name, dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: attempt, To: statemachine.StepWaitingForRetry,
		At: now, Transitions: trs, Error: fail, NextRetryAt: &next, SweepAt: sweep,
	})
	if err != nil {
		if errors.Is(err, workflow.ErrConflict) {
			return nil
		}
		return err
	}
	e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: step.Name, State: string(statemachine.StepWaitingForRetry), Attempt: attempt, At: now})
	return e.sendRetry(ctx, run, updated)
}

// afterFinalFailure decides what a step's final failure does to its task. A
// batch worker's failure_strategy decides for batch workers:
//   - continue_on_failure: the failed worker releases the convergence step,
//     which sees the failure (worker.Step.BatchResults) and runs anyway;
//   - isolate: the failed worker waits for an operator (resolve or retry it)
//     while the other workers go on; the convergence waits for it;
//   - fail_fast (and every other step): the task fails.
func (e *Engine) afterFinalFailure(ctx context.Context, run *taskRun, step *workflow.Step, strategy string, compensate bool) error {
	if step.Type == StepTypeCompensation {
		return e.compensationFailed(ctx, run, step)
	}
	switch strategy {
	case "continue_on_failure":
		ts, ok := run.tpl.Step(step.TemplateStep)
		if !ok {
			return fmt.Errorf("step %s: template step %q not in %s", step.Name, step.TemplateStep, run.tpl.Key())
		}
		return e.afterComplete(ctx, run, step, ts, &outcomePlan{}, json.RawMessage("null"))
	case "isolate":
		return nil
	}
	if compensate || run.tpl.CompensateOnFailure {
		return e.startCompensation(ctx, run, step.Name)
	}
	return e.failTask(ctx, run, step.Name)
}

// failureStrategy returns a batch worker's failure_strategy ("" for other steps).
func failureStrategy(step *workflow.Step) string {
	if step.Type != string(template.StepBatchWorker) || len(step.Inputs) == 0 {
		return ""
	}
	var in protocol.BatchWorkerInputs
	if json.Unmarshal(step.Inputs, &in) != nil {
		return ""
	}
	return in.BatchMetadata.FailureStrategy
}

// sendRetry asks the scheduler to retry a waiting step when it is due. Delays
// beyond SQS's 15 minutes are left to the sweeper.
func (e *Engine) sendRetry(ctx context.Context, run *taskRun, step *workflow.Step) error {
	var delay time.Duration
	if step.NextRetryAt != nil {
		delay = step.NextRetryAt.Sub(e.now())
	}
	if delay > sqsqueue.MaxDelay {
		return nil
	}
	return e.sendOrchestration(ctx, protocol.OrchestrationMessage{
		Kind: protocol.KindRetryStep, TaskUUID: run.task.UUID, StepName: step.Name,
		Attempt: step.Attempts, CorrelationID: run.task.CorrelationID,
	}, delay)
}

func (e *Engine) sendOrchestration(ctx context.Context, m protocol.OrchestrationMessage, delay time.Duration) error {
	m.V = protocol.Version
	body, err := jsonMarshal(m)
	if err != nil {
		return err
	}
	return e.queue.Send(ctx, e.cfg.Names.OrchestrationQueue(), sqsqueue.Message{Body: body, Delay: delay, CorrelationID: m.CorrelationID})
}

// failTask moves a task whose step failed for good to error, through
// blocked_by_failures. Running steps finish and are recorded; no new step starts.
func (e *Engine) failTask(ctx context.Context, run *taskRun, failedStep string) error {
	for range 3 {
		t := run.task
		if t.State != statemachine.TaskStepsInProcess {
			return nil
		}
		updated, err := e.moveTask(ctx, t, "step "+failedStep+" failed", dynamo.TaskChange{},
			statemachine.TaskEvStepCompleted, statemachine.TaskEvPermanentFailure, statemachine.TaskEvGiveUp)
		if err == nil {
			run.task = updated
			return nil
		}
		if !errors.Is(err, workflow.ErrConflict) {
			return err
		}
		if run.task, err = e.store.GetTask(ctx, t.UUID); err != nil {
			return err
		}
	}
	return fmt.Errorf("fail task %s: %w", run.task.UUID, workflow.ErrConflict)
}

// backoffDelay computes the delay before attempt+1 from the template's retry
// policy, honouring a handler-supplied retry-after (capped at the maximum).
// Jitter takes up to 15% off so concurrent retries spread without ever
// shrinking the growth from one attempt to the next.
func backoffDelay(r template.Retry, attempt int, retryAfter time.Duration) time.Duration {
	maxD := time.Duration(r.MaxBackoffMS) * time.Millisecond
	if retryAfter > 0 {
		if maxD > 0 && retryAfter > maxD {
			return maxD
		}
		return retryAfter
	}
	base := float64(r.BackoffBaseMS) * float64(time.Millisecond)
	var d float64
	switch r.Backoff {
	case template.Backoff("none"):
		return 0
	case template.Backoff("linear"):
		d = base * float64(attempt)
	case template.Backoff("fibonacci"):
		a, b := 1.0, 1.0
		for i := 1; i < attempt; i++ {
			a, b = b, a+b
		}
		d = base * a
	default:
		d = base * math.Pow(2, float64(attempt-1))
	}
	if maxD > 0 && d > float64(maxD) {
		d = float64(maxD)
	}
	if r.Jitter {
		d -= d * 0.15 * rand.Float64() //nolint:gosec // jitter needs no cryptographic randomness
	}
	return time.Duration(d)
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// ErrTaskFinished means an operation needs a task that has not finished
// (complete, cancelled or resolved manually). Callers answer it with 409.
var ErrTaskFinished = errors.New("task has finished")

// CancelTask cancels a task: the task becomes cancelled and every step that
// has not started (pending, enqueued, waiting for retry) is cancelled too, so
// no new step starts. Steps already running finish and their results are
// recorded. Cancelling a cancelled task is a no-op. It returns
// workflow.ErrNotFound, or ErrTaskFinished for a task that completed.
func (e *Engine) CancelTask(ctx context.Context, taskUUID, reason, by string) (*workflow.Task, error) {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	if run.task.State == statemachine.TaskCancelled {
		return run.task, nil
	}
	if run.task.State.Terminal() {
		return nil, fmt.Errorf("cancel task %s (%s): %w", taskUUID, run.task.State, ErrTaskFinished)
	}
	t, err := e.moveTask(ctx, run.task, withBy(reason, by), dynamo.TaskChange{}, statemachine.TaskEvCancel)
	if err != nil {
		return nil, err
	}
	run.task = t
	steps, err := e.store.ListSteps(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		switch s.State {
		case statemachine.StepPending, statemachine.StepEnqueued, statemachine.StepWaitingForRetry:
			if err := e.moveStep(ctx, run, s, statemachine.StepCancelled, "task cancelled", statemachine.StepEvCancel); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

func withBy(reason, by string) string {
	switch {
	case by == "":
		return reason
	case reason == "":
		return "by " + by
	}
	return reason + " (by " + by + ")"
}

// moveStep applies a guarded change from the step's current state; a step
// that moved on meanwhile is left alone.
func (e *Engine) moveStep(ctx context.Context, run *taskRun, s *workflow.Step, to statemachine.StepState, reason string, evs ...statemachine.StepEvent) error {
	now := e.now()
	trs, err := e.stepTransitions(run, s.State, s.Attempts, now, reason, evs...)
	if err != nil {
		return err
	}
	err = e.store.ApplyStepChange(ctx, run.task.UUID, s.Name, dynamo.StepChange{
		From: []statemachine.StepState{s.State}, Attempts: s.Attempts, To: to, At: now, Transitions: trs})
	if errors.Is(err, workflow.ErrConflict) {
		return nil
	}
	if err == nil {
		e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: s.Name, State: string(to), Attempt: s.Attempts, At: now})
	}
	return err
}

// PauseTask stops new steps from starting: the task is flagged paused and its
// enqueued steps and ready pending ones (not yet claimed by a worker) go to
// waiting, so their messages are ignored. Running steps finish and are recorded. It returns
// workflow.ErrNotFound, or ErrTaskFinished for a finished task.
func (e *Engine) PauseTask(ctx context.Context, taskUUID, by string) (*workflow.Task, error) {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	if run.task.State.Terminal() {
		return nil, fmt.Errorf("pause task %s (%s): %w", taskUUID, run.task.State, ErrTaskFinished)
	}
	if err := e.store.SetPaused(ctx, taskUUID, true, e.now(), time.Time{}); err != nil {
		return nil, err
	}
	steps, err := e.store.ListSteps(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		// An enqueued step, and a pending one whose dependencies are met
		// (its message may be on the queue, sent from pending), go to
		// waiting: the message's claim then fails.
		if s.State == statemachine.StepEnqueued || (s.State == statemachine.StepPending && s.DependenciesMet()) {
			if err := e.moveStep(ctx, run, s, statemachine.StepWaitingForRetry, withBy("task paused", by), statemachine.StepEvWaitForRetry); err != nil {
				return nil, err
			}
		}
	}
	return e.store.GetTask(ctx, taskUUID)
}

// ResumeTask clears the paused flag and re-drives the task: steps whose
// dependencies are met and steps waiting to run again are enqueued.
func (e *Engine) ResumeTask(ctx context.Context, taskUUID, by string) (*workflow.Task, error) {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	if run.task.State.Terminal() {
		return nil, fmt.Errorf("resume task %s (%s): %w", taskUUID, run.task.State, ErrTaskFinished)
	}
	// A paused task was checked seldom (nothing could be claimed); from
	// now on its steps can be claimed again.
	now := e.now()
	if err := e.store.SetPaused(ctx, taskUUID, false, now, now.Add(e.checkEvery(run.tpl))); err != nil {
		return nil, err
	}
	if err := e.RedriveTask(ctx, taskUUID); err != nil {
		return nil, err
	}
	return e.store.GetTask(ctx, taskUUID)
}

// Manual step actions, as Tasker Core's StepManualAction names them.
const (
	ActionResetForRetry    = "reset_for_retry"
	ActionResolveManually  = "resolve_manually"
	ActionCompleteManually = "complete_manually"
)

// StepAction is an operator's action on a step.
type StepAction struct {
	Type   string          `json:"action_type"`
	Reason string          `json:"reason,omitempty"`
	By     string          `json:"by,omitempty"`
	Result json.RawMessage `json:"result,omitempty"` // complete_manually: the step's result
}

// ApplyStepAction applies an operator's action to a step and re-drives the
// task, so a step resolved or completed by hand unblocks its dependents and a
// task that had failed runs on:
//   - reset_for_retry: an error step goes back to pending with zero attempts;
//   - resolve_manually: the step counts as done without a result;
//   - complete_manually: the step completes with the given result.
//
// A task that ended in error is reopened (error → pending → … →
// steps_in_process, all audited). Errors: workflow.ErrNotFound,
// *InvalidRequestError (unknown action, bad result), ErrTaskFinished, and
// *statemachine.IllegalTransitionError (the step's state does not allow it).
func (e *Engine) ApplyStepAction(ctx context.Context, taskUUID, stepUUID string, a StepAction) (*workflow.Step, error) {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	step, err := e.stepByUUID(ctx, taskUUID, stepUUID)
	if err != nil {
		return nil, err
	}
	switch run.task.State {
	case statemachine.TaskComplete, statemachine.TaskCancelled, statemachine.TaskResolvedManually:
		return nil, fmt.Errorf("%s on task %s (%s): %w", a.Type, taskUUID, run.task.State, ErrTaskFinished)
	}
	var ev statemachine.StepEvent
	var to statemachine.StepState
	change := dynamo.StepChange{From: []statemachine.StepState{step.State}, Attempts: step.Attempts, At: e.now()}
	switch a.Type {
	case ActionResetForRetry:
		ev, to = statemachine.StepEvResetForRetry, statemachine.StepPending
		zero := 0
		change.SetAttempts = &zero
	case ActionResolveManually:
		ev, to = statemachine.StepEvResolveManually, statemachine.StepResolvedManually
	case ActionCompleteManually:
		ev, to = statemachine.StepEvCompleteManually, statemachine.StepComplete
		result := a.Result
		if len(result) == 0 {
			result = json.RawMessage("{}")
		}
		if !json.Valid(result) {
			return nil, invalid("result", "must be valid JSON")
		}
		stored, ref, err := e.storeResult(ctx, run, step, step.Attempts, result)
		if err != nil {
			return nil, err
		}
		change.Result, change.ResultRef = stored, ref
	default:
		return nil, invalid("action_type", "unknown action %q (want %s, %s or %s)", a.Type, ActionResetForRetry, ActionResolveManually, ActionCompleteManually)
	}
	trs, err := e.stepTransitions(run, step.State, step.Attempts, change.At, withBy(a.Reason, a.By), ev)
	if err != nil {
		return nil, err
	}
	change.To, change.Transitions = to, trs
	if err := e.store.ApplyStepChange(ctx, taskUUID, step.Name, change); err != nil {
		return nil, err
	}
	e.notify(Event{TaskUUID: taskUUID, Namespace: run.task.Namespace, StepName: step.Name, State: string(to), Attempt: step.Attempts, At: change.At})
	if err := e.reopen(ctx, run, a); err != nil {
		return nil, err
	}
	if to.SatisfiesDependency() {
		ts, ok := run.tpl.Step(step.TemplateStep)
		if !ok {
			return nil, fmt.Errorf("step %s: template step %q not in %s", step.Name, step.TemplateStep, run.tpl.Key())
		}
		result := change.Result
		if change.ResultRef != nil {
			result = a.Result
		}
		if err := e.afterComplete(ctx, run, step, ts, &outcomePlan{}, result); err != nil {
			return nil, err
		}
	}
	if err := e.RedriveTask(ctx, taskUUID); err != nil {
		return nil, err
	}
	// The listing, not the item alone: it derives the dependencies met
	// from the other steps' states (workflow.DeriveSatisfied).
	steps, err := e.store.ListSteps(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		if s.Name == step.Name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("step %s: %w", step.Name, workflow.ErrNotFound)
}

// reopen brings a task that ended in error back to steps_in_process.
func (e *Engine) reopen(ctx context.Context, run *taskRun, a StepAction) error {
	if run.task.State != statemachine.TaskError {
		return nil
	}
	sweep := e.now().Add(e.checkEvery(run.tpl))
	t, err := e.moveTask(ctx, run.task, withBy("manual "+a.Type, a.By), dynamo.TaskChange{SweepAt: sweep},
		statemachine.TaskEvReset, statemachine.TaskEvStart, statemachine.TaskEvReadyStepsFound, statemachine.TaskEvStepsEnqueued)
	if err != nil {
		return err
	}
	run.task = t
	return nil
}

// stepByUUID finds a task's step by its UUID.
func (e *Engine) stepByUUID(ctx context.Context, taskUUID, stepUUID string) (*workflow.Step, error) {
	steps, err := e.store.ListSteps(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		if s.UUID == stepUUID {
			return s, nil
		}
	}
	return nil, fmt.Errorf("step %s of task %s: %w", stepUUID, taskUUID, workflow.ErrNotFound)
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// StepTypeCompensation marks the steps a saga creates to undo completed work.
const StepTypeCompensation = "compensation"

// compensationPrefix names a compensation step after the step it undoes.
const compensationPrefix = "compensate_"

// compensationFor returns the template's compensation for a step, or nil.
func compensationFor(tpl *template.Template, s *workflow.Step) *template.Compensation {
	ts, ok := tpl.Step(s.TemplateStep)
	if !ok {
		return nil
	}
	return ts.Compensation
}

// startCompensation begins a saga: the task's completed steps that declare a
// compensation get a compensation step each, ordered in reverse dependency
// order (a step is undone only after every completed step that depends on it
// was), and the task waits in blocked_by_failures until they have run. A task
// with nothing to undo fails at once.
func (e *Engine) startCompensation(ctx context.Context, run *taskRun, failed string) error {
	if run.task.State == statemachine.TaskBlockedByFailures && run.task.Compensating {
		return e.RedriveTask(ctx, run.task.UUID) // redelivery: make sure the ready ones run
	}
	if run.task.State != statemachine.TaskStepsInProcess {
		return nil
	}
	steps, err := e.store.ListSteps(ctx, run.task.UUID)
	if err != nil {
		return err
	}
	comps, err := e.planCompensation(ctx, run, steps)
	if err != nil {
		return err
	}
	if len(comps) == 0 {
		return e.failTask(ctx, run, failed)
	}
	if _, err := e.store.PutSteps(ctx, run.task.UUID, comps); err != nil {
		return err
	}
	reason := fmt.Sprintf("step %s failed; compensating %d completed steps", failed, len(comps))
	// Compensation steps are about to be claimed: check the task within
	// the shortest claim window from now on.
	t, err := e.moveTask(ctx, run.task, reason, dynamo.TaskChange{SetCompensating: true, SweepAt: e.now().Add(e.checkEvery(run.tpl))},
		statemachine.TaskEvStepCompleted, statemachine.TaskEvPermanentFailure)
	if err != nil {
		if errors.Is(err, workflow.ErrConflict) {
			return nil
		}
		return err
	}
	run.task = t
	var ready []*workflow.Step
	for _, c := range comps {
		if len(c.Dependencies) == 0 {
			ready = append(ready, c)
		}
	}
	return e.enqueueSteps(ctx, run, ready, nil)
}

// planCompensation builds the compensation steps for the completed steps.
func (e *Engine) planCompensation(ctx context.Context, run *taskRun, steps []*workflow.Step) ([]*workflow.Step, error) {
	children := map[string][]string{}
	byName := map[string]*workflow.Step{}
	for _, s := range steps {
		byName[s.Name] = s
		for _, p := range s.Dependencies {
			children[p] = append(children[p], s.Name)
		}
	}
	undo := func(s *workflow.Step) bool {
		return s.State == statemachine.StepComplete && s.Type != StepTypeCompensation && compensationFor(run.tpl, s) != nil
	}
	// deps[A] = compensations of A's completed descendants that have one.
	deps := map[string][]string{}
	for _, s := range steps {
		if !undo(s) {
			continue
		}
		seen := map[string]bool{}
		queue := append([]string(nil), children[s.Name]...)
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if seen[n] {
				continue
			}
			seen[n] = true
			if c := byName[n]; c != nil && undo(c) {
				deps[s.Name] = append(deps[s.Name], compensationPrefix+n)
			}
			queue = append(queue, children[n]...)
		}
	}
	release := map[string][]string{}
	for a, ds := range deps {
		for _, d := range ds {
			release[d] = append(release[d], compensationPrefix+a)
		}
	}
	now := e.now()
	var comps []*workflow.Step
	for _, s := range steps {
		if !undo(s) {
			continue
		}
		comp := compensationFor(run.tpl, s)
		result, err := e.stepResult(ctx, s)
		if err != nil {
			return nil, err
		}
		name := compensationPrefix + s.Name
		rel := release[name]
		sort.Strings(rel)
		inputs, err := json.Marshal(protocol.CompensationInputs{Compensates: s.Name, Result: result, Release: rel})
		if err != nil {
			return nil, err
		}
		d := deps[s.Name]
		sort.Strings(d)
		c := &workflow.Step{
			TaskUUID: run.task.UUID, UUID: e.cfg.NewID(), Name: name, TemplateStep: s.TemplateStep, Handler: comp.Handler,
			Type: StepTypeCompensation, State: statemachine.StepPending, MaxAttempts: comp.Retry.MaxAttempts,
			Retryable: comp.Retry.Retryable, TimeoutSecs: comp.TimeoutSeconds, Dependencies: d, CreatedBy: s.Name,
			Inputs: inputs, CreatedAt: now,
			History: []workflow.Transition{{To: string(statemachine.StepPending), Event: "create", At: now,
				Processor: e.cfg.Processor, CorrelationID: run.task.CorrelationID, Reason: "compensates " + s.Name}},
		}
		comps = append(comps, c)
	}
	return comps, nil
}

// compensationReleases returns the compensation steps waiting for s.
func compensationReleases(s *workflow.Step) []string {
	var in protocol.CompensationInputs
	if json.Unmarshal(s.Inputs, &in) != nil {
		return nil
	}
	return in.Release
}

// compensationFailed records a compensation that failed for good (the step
// was released in the same write that failed it): it is
// listed on the task for manual cleanup (and in a DLQ entry when the saga
// ends), and the compensations waiting for it still run (best effort).
func (e *Engine) compensationFailed(ctx context.Context, run *taskRun, step *workflow.Step) error {
	return e.afterComplete(ctx, run, step, nil, &outcomePlan{}, json.RawMessage("null"))
}

// finishCompensation ends a saga whose compensation steps have all run: the
// task gives up into error, with an audit record saying it was compensated,
// or that some compensations failed and need manual cleanup (a DLQ entry
// surfaces them).
func (e *Engine) finishCompensation(ctx context.Context, t *workflow.Task) error {
	now := e.now()
	reason := "compensated: every completed step was undone"
	if len(t.CompensationFailed) > 0 {
		reason = "compensation incomplete: " + strings.Join(t.CompensationFailed, ", ") + " failed; manual cleanup needed"
		// The entry exists before the task ends, so whoever sees the end sees it.
		snap, err := e.snapshot(ctx, t)
		if err != nil {
			return err
		}
		err = e.store.PutDLQEntry(ctx, &dynamo.DLQEntry{UUID: e.cfg.NewID(), TaskUUID: t.UUID, Reason: dynamo.DLQReasonManual,
			ResolutionStatus: dynamo.DLQPending, Snapshot: snap, Message: reason, CreatedAt: now, UpdatedAt: now})
		if err != nil && !errors.Is(err, workflow.ErrConflict) {
			return err
		}
	}
	if _, err := e.moveTask(ctx, t, reason, dynamo.TaskChange{}, statemachine.TaskEvGiveUp); err != nil && !errors.Is(err, workflow.ErrConflict) {
		return err
	}
	return nil
}

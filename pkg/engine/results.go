package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// HandleResult applies one worker result. It is idempotent: a redelivered
// result whose state change was already applied redoes only the follow-up
// work (dependents, finalization); a stale result (another attempt, or a step
// that moved on) is dropped. A result that cannot be applied because the
// worker sent something invalid (a message outside the protocol's limits, a
// bad outcome) fails the step permanently with the reason; the results
// queue's consumer and in-process workers get the same checks.
func (e *Engine) HandleResult(ctx context.Context, msg *protocol.ResultMessage) error {
	if err := msg.Validate(); err != nil {
		return e.RejectResult(ctx, msg.TaskUUID, msg.StepName, msg.Attempt, err.Error())
	}
	task, step, err := e.store.GetTaskAndStep(ctx, msg.TaskUUID, msg.StepName)
	if err != nil {
		if errors.Is(err, workflow.ErrNotFound) {
			e.log.WarnContext(ctx, "result for unknown task or step dropped", "task_uuid", msg.TaskUUID, "step", msg.StepName, "error", err)
			return nil
		}
		return err
	}
	run, err := e.runOf(ctx, task)
	if err != nil {
		return err
	}
	if msg.StepUUID != "" && msg.StepUUID != step.UUID {
		e.log.WarnContext(ctx, "result with mismatched step uuid dropped", "task_uuid", msg.TaskUUID, "step", msg.StepName)
		return nil
	}
	if step.Attempts != msg.Attempt {
		e.log.InfoContext(ctx, "stale result dropped", "task_uuid", msg.TaskUUID, "step", msg.StepName,
			"attempt", msg.Attempt, "current_attempt", step.Attempts)
		return nil
	}
	result := msg.Result
	if msg.ResultRef != nil && !dynamo.PayloadOwnedBy(msg.ResultRef, msg.TaskUUID) {
		return e.applyFailure(ctx, run, step, msg.Attempt, &protocol.StepError{
			Message: "invalid result message: result_ref points outside the task", ErrorType: "invalid_result"})
	}
	if msg.ResultRef != nil {
		if result, err = e.store.LoadPayload(ctx, msg.ResultRef); err != nil {
			if missingPayload(err) {
				return e.applyFailure(ctx, run, step, msg.Attempt, invalidResult("result_ref: no stored result"))
			}
			return err
		}
		if err := checkLoadedResult(result); err != nil {
			return e.applyFailure(ctx, run, step, msg.Attempt, invalidResult(err.Error()))
		}
	}
	switch msg.Status {
	case protocol.StatusSuccess:
		return e.applySuccess(ctx, run, step, msg, result)
	default:
		return e.applyFailure(ctx, run, step, msg.Attempt, failureOf(msg))
	}
}

func failureOf(msg *protocol.ResultMessage) *protocol.StepError {
	f := *msg.Error
	if msg.Status == protocol.StatusPermanentError {
		f.Retryable = false
	} else {
		f.Retryable = true
	}
	return &f
}

// applySuccess completes a step: creates the steps its outcome asks for,
// records the result, then propagates to dependents and finalizes the task.
func (e *Engine) applySuccess(ctx context.Context, run *taskRun, step *workflow.Step, msg *protocol.ResultMessage, result json.RawMessage) error {
	ts, ok := run.tpl.Step(step.TemplateStep)
	if !ok {
		return fmt.Errorf("step %s: template step %q not in %s", step.Name, step.TemplateStep, run.tpl.Key())
	}
	plan, perr := &outcomePlan{}, error(nil)
	if step.Type != StepTypeCompensation {
		plan, perr = e.planOutcome(ctx, run, step, ts, result)
	}
	if perr != nil {
		var bad *OutcomeError
		if errors.As(perr, &bad) {
			return e.applyFailure(ctx, run, step, msg.Attempt, &protocol.StepError{
				Message: bad.Error(), ErrorType: "invalid_outcome", Retryable: false})
		}
		return perr
	}
	if step.State == statemachine.StepInProgress {
		if err := e.createPlanned(ctx, run, step.Name, msg.Attempt, plan); err != nil {
			if errors.Is(err, workflow.ErrConflict) {
				return e.lostAttempt(ctx, run, step, msg.Attempt, plan, result)
			}
			return err
		}
		stored, ref, err := e.storeResult(ctx, run, step, msg.Attempt, result)
		if err != nil {
			return err
		}
		now := e.now()
		trs, err := e.stepTransitions(run, step.State, msg.Attempt, now, "",
			statemachine.StepEvEnqueueForOrchestration, statemachine.StepEvComplete)
		if err != nil {
			return err
		}
		if len(trs) > 0 && msg.WorkerID != "" {
			trs[0].Processor = msg.WorkerID // the worker handed the result over; the engine's clock stamps it
		}
		err = e.store.ApplyStepChange(ctx, run.task.UUID, step.Name, dynamo.StepChange{
			From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: msg.Attempt,
			To: statemachine.StepComplete, At: now, Transitions: trs,
			Result: stored, ResultRef: ref,
		})
		switch {
		case errors.Is(err, workflow.ErrConflict):
			return e.lostAttempt(ctx, run, step, msg.Attempt, plan, result)
		case err != nil:
			return err
		}
		e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: step.Name, State: string(statemachine.StepComplete), Attempt: msg.Attempt, At: now})
	} else if step.State != statemachine.StepComplete {
		e.log.InfoContext(ctx, "result for a step no longer in progress dropped", "task_uuid", run.task.UUID,
			"step", step.Name, "state", step.State)
		return nil
	}
	return e.afterRun(ctx, run, step, ts, plan, result)
}

// lostAttempt handles a result whose completion write found the step
// changed. When another delivery completed this very attempt, the follow-up
// work is redone (it is idempotent); otherwise the attempt lost its step (a
// timeout, a cancel or an operator moved it on) and the steps its outcome
// created are discarded.
func (e *Engine) lostAttempt(ctx context.Context, run *taskRun, step *workflow.Step, attempt int, plan *outcomePlan, result json.RawMessage) error {
	cur, err := e.store.GetStep(ctx, run.task.UUID, step.Name)
	if err != nil {
		return err
	}
	if cur.State == statemachine.StepComplete && cur.Attempts == attempt {
		ts, _ := run.tpl.Step(step.TemplateStep)
		return e.afterRun(ctx, run, cur, ts, plan, result)
	}
	e.log.InfoContext(ctx, "result of an attempt that lost its step dropped", "task_uuid", run.task.UUID,
		"step", step.Name, "attempt", attempt, "state", cur.State, "current_attempt", cur.Attempts)
	return e.discardPlanned(ctx, run, step.Name, attempt, plan)
}

// storeResult keeps small results on the step item and moves large ones out.
func (e *Engine) storeResult(ctx context.Context, run *taskRun, step *workflow.Step, attempt int, result json.RawMessage) (json.RawMessage, *protocol.PayloadRef, error) {
	if len(result) == 0 {
		return json.RawMessage("null"), nil, nil
	}
	if len(result) <= maxInlineResult {
		return result, nil, nil
	}
	ref, err := e.store.SavePayload(ctx, run.task.UUID, fmt.Sprintf("%s#%d#result", step.Name, attempt), result)
	if err != nil {
		return nil, nil, err
	}
	return nil, ref, nil
}

// maxInlineResult is the largest result kept on the step item itself; larger
// results are stored out of line so step writes stay cheap.
const maxInlineResult = 32 * 1024

// afterComplete propagates a completed step to its dependents and finalizes
// the task when nothing is left. Safe to repeat.
func (e *Engine) afterComplete(ctx context.Context, run *taskRun, step *workflow.Step, ts *template.Step, plan *outcomePlan, result json.RawMessage) error {
	return e.afterCompleteOf(ctx, run, step, ts, plan, result, false)
}

// afterRun is afterComplete for a step that ran (its result applied): it
// could only have been enqueued once its dependencies were met, so a
// covering sink's completion finishes the task without counting steps.
func (e *Engine) afterRun(ctx context.Context, run *taskRun, step *workflow.Step, ts *template.Step, plan *outcomePlan, result json.RawMessage) error {
	return e.afterCompleteOf(ctx, run, step, ts, plan, result, true)
}

func (e *Engine) afterCompleteOf(ctx context.Context, run *taskRun, step *workflow.Step, ts *template.Step, plan *outcomePlan, result json.RawMessage, ran bool) error {
	children := e.childrenOf(run, step, ts, plan)
	if ts != nil && ts.Type == template.StepBatchable {
		// Each worker gets its cursor in its inputs; the outcome listing every
		// cursor would make each of N messages O(N) (and the batch O(N²)).
		result = withoutKey(result, "batch_processing_outcome")
	}
	known := map[string]json.RawMessage{step.Name: result}
	if len(children) > 0 {
		only := map[string]bool{} // steps the outcome created whose only dependency is this step
		for _, p := range plan.steps {
			if len(p.Dependencies) == 1 && p.Dependencies[0] == step.Name && !p.CountsDependencies {
				only[p.Name] = true
			}
		}
		existing, err := e.propagate(ctx, run, step.Name, children, known, only)
		if err != nil {
			return err
		}
		if existing > 0 {
			return nil // a dependent is unfinished, so the task cannot be done
		}
	}
	if ran && step.Type != StepTypeCompensation && e.coveringSink(run.tpl, step.Name) {
		return e.finishCovered(ctx, run.task)
	}
	return e.finalizeIfDone(ctx, run.task.UUID, false)
}

// finishCovered completes a task whose covering sink's result was just
// applied: every other step is its ancestor and complete, so no step can be
// open and nothing can have started a saga. It uses the task as read for
// this result instead of reading it again; the transition's guard (the task
// still in steps_in_process) catches a task that moved on meanwhile.
func (e *Engine) finishCovered(ctx context.Context, t *workflow.Task) error {
	if t.State != statemachine.TaskStepsInProcess || t.Compensating {
		return e.finalizeIfDone(ctx, t.UUID, true)
	}
	return e.completeTask(ctx, t)
}

// completeTask moves a task whose steps are all done to complete; a task
// that moved on meanwhile (the guard fails) is left as it is.
func (e *Engine) completeTask(ctx context.Context, t *workflow.Task) error {
	if _, err := e.moveTask(ctx, t, "", dynamo.TaskChange{}, statemachine.TaskEvAllStepsCompleted,
		statemachine.TaskEvAllStepsSuccessful); err != nil && !errors.Is(err, workflow.ErrConflict) {
		return err
	}
	return nil
}

// childrenOf lists the concrete names of a step's dependents: template
// dependents (batch worker templates excluded: their instances come from the
// batchable step's outcome) plus the steps the outcome created that depend on it.
func (e *Engine) childrenOf(run *taskRun, step *workflow.Step, ts *template.Step, plan *outcomePlan) []string {
	if step.Type == StepTypeCompensation {
		return compensationReleases(step)
	}
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, d := range run.tpl.Dependents(ts.Name) {
		if dt, ok := run.tpl.Step(d); ok && dt.Type == template.StepBatchWorker {
			continue
		}
		add(d)
	}
	for _, s := range plan.steps {
		for _, dep := range s.Dependencies {
			if dep == step.Name {
				add(s.Name)
			}
		}
	}
	return out
}

// propagateConcurrency bounds the writes one completion makes at once to its
// dependents (a batchable step may have thousands).
const propagateConcurrency = 16

// propagate tells parent's children that it completed and sends the
// messages of those that became ready. It returns how many children exist.
func (e *Engine) propagate(ctx context.Context, run *taskRun, parent string, children []string, known map[string]json.RawMessage, only map[string]bool) (int, error) {
	var (
		mu       sync.Mutex
		existing int
		ready    []*workflow.Step
		msgs     []sqsqueue.Message
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, propagateConcurrency)
	)
	for _, c := range children {
		wg.Add(1)
		sem <- struct{}{}
		go func(c string) {
			defer func() { <-sem; wg.Done() }()
			found, m, r, err := e.propagateOne(ctx, run, parent, c, known, only[c])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if found {
				existing++
			}
			if m != nil {
				msgs = append(msgs, *m)
			}
			if r != nil {
				ready = append(ready, r)
			}
		}(c)
	}
	wg.Wait()
	if firstErr != nil {
		return existing, firstErr
	}
	if len(msgs) > 0 {
		if err := e.queue.SendBatch(ctx, e.cfg.Names.StepQueue(run.task.Namespace), msgs); err != nil {
			return existing, err
		}
	}
	if len(ready) == 0 {
		return existing, nil
	}
	return existing, e.enqueueSteps(ctx, run, ready, known)
}

// propagateOne tells one child that parent completed. It reports whether
// the child exists, and returns either the message of a child that became
// ready or, for a child that counts its dependencies, the child when the
// count reached zero (enqueued by a guarded write). A child created by
// parent's outcome with parent its only dependency is enqueued by a guarded
// write too (onlyChild).
//
// Any other child (the template's) records nothing, and its message goes
// without a stored enqueue (the worker's claim moves it from pending). One
// the task started with, whose only dependency is parent, is not even read
// (knownOnlyChild); the rest are read with their other dependencies
// (readyChild: strongly consistent, after parent's own completion was
// written) and are ready when they all satisfy them. Of two parents
// completing at once at least one sees the other complete, and if both do,
// both send: the claim lets one message run.
func (e *Engine) propagateOne(ctx context.Context, run *taskRun, parent, c string, known map[string]json.RawMessage, onlyChild bool) (bool, *sqsqueue.Message, *workflow.Step, error) {
	if ts, ok := run.tpl.Step(c); ok && ts.Type == template.StepDeferredConvergence {
		child, err := e.store.SatisfyCounted(ctx, run.task.UUID, c, parent)
		switch {
		case errors.Is(err, workflow.ErrNotFound):
			return false, nil, nil, nil
		case err != nil:
			return false, nil, nil, err
		case child.State == statemachine.StepPending && child.DependenciesMet() && run.acceptingStep(child):
			return true, nil, child, nil
		}
		return true, nil, nil, nil
	}
	if onlyChild && run.accepting() {
		// Created by parent's outcome, maybe one of thousands: a guarded
		// enqueue keeps a redelivered result from sending them all again.
		m, found, err := e.enqueueOnlyChild(ctx, run, c, parent, known)
		return found, m, nil, err
	}
	child, parents := e.knownOnlyChild(run, parent, c, known, onlyChild)
	if child == nil {
		var err error
		child, parents, err = e.readyChild(ctx, run, parent, c, known, onlyChild)
		if err != nil || child == nil {
			return false, nil, nil, err
		}
	}
	if parents == nil {
		return true, nil, nil, nil
	}
	m, err := e.stepMessage(ctx, run, child, parents)
	if err != nil {
		return true, nil, nil, err
	}
	e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: c, State: string(statemachine.StepEnqueued), Attempt: child.Attempts + 1, At: e.now()})
	return true, &m, nil, nil
}

// knownOnlyChild builds, without reading it, child c of parent when the
// template says parent is its only dependency and c is one of the task's
// initial steps (it exists, pending until a message for it is claimed, with
// a derived UUID): its message needs nothing stored on its item. A child in
// any other state (a redelivered result) gets a message whose claim fails.
// It returns nil when the child must be read.
func (e *Engine) knownOnlyChild(run *taskRun, parent, c string, known map[string]json.RawMessage, onlyChild bool) (*workflow.Step, map[string]json.RawMessage) {
	if onlyChild || !run.task.StepUUIDsDerived || !run.accepting() {
		return nil, nil
	}
	ts, ok := run.tpl.Step(c)
	if !ok || len(ts.Dependencies) != 1 || ts.Dependencies[0] != parent || !e.initialStep(run.tpl, c) {
		return nil, nil
	}
	s := e.newStep(run.task, ts, c, workflow.DerivedStepUUID(run.task.UUID, c), ts.Dependencies, e.now())
	return s, map[string]json.RawMessage{parent: known[parent]}
}

// initialStep reports whether a task of tpl starts with step name (cached
// per template version).
func (e *Engine) initialStep(tpl *template.Template, name string) bool {
	v, ok := e.initial.Load(tpl.Key())
	if !ok {
		set := map[string]bool{}
		for _, n := range tpl.InitialSteps() {
			set[n] = true
		}
		v, _ = e.initial.LoadOrStore(tpl.Key(), set)
	}
	return v.(map[string]bool)[name]
}

// readyChild reads child c of parent, with the other dependencies the
// template names (one strongly consistent BatchGetItem; a dependency
// created at run time that the template does not name costs a second). It
// returns a nil child when c does not exist, and nil parents unless c is
// pending, may start, and every other dependency releases it; parents then
// holds the results in hand for its message.
func (e *Engine) readyChild(ctx context.Context, run *taskRun, parent, c string, known map[string]json.RawMessage, onlyChild bool) (*workflow.Step, map[string]json.RawMessage, error) {
	read := []string{c}
	if ts, ok := run.tpl.Step(c); ok && !onlyChild {
		read = append(read, otherThan(ts.Dependencies, parent)...)
	}
	got, err := e.store.GetSteps(ctx, run.task.UUID, read)
	if err != nil {
		return nil, nil, err
	}
	child := got[c]
	if child == nil || child.State != statemachine.StepPending || !run.acceptingStep(child) {
		return child, nil, nil
	}
	others := otherThan(child.Dependencies, parent)
	var missing []string
	for _, d := range others {
		if _, ok := got[d]; !ok && !child.HasSatisfied(d) {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		more, err := e.store.GetSteps(ctx, run.task.UUID, missing)
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(got, more)
	}
	parents := map[string]json.RawMessage{parent: known[parent]}
	for _, d := range others {
		p := got[d]
		switch {
		case child.HasSatisfied(d):
		case p == nil || !p.ReleasesDependents():
			return child, nil, nil // not ready: the last dependency to complete sends it
		case p.Type != string(template.StepBatchWorker) && p.ResultRef == nil && p.State == statemachine.StepComplete:
			parents[d] = p.Result
		}
	}
	return child, parents, nil
}

// enqueueOnlyChild satisfies and enqueues a single-dependency child in one
// write and builds its message. found is false when the child does not
// exist; a nil message means another delivery enqueued it.
func (e *Engine) enqueueOnlyChild(ctx context.Context, run *taskRun, child, parent string, known map[string]json.RawMessage) (*sqsqueue.Message, bool, error) {
	now := e.now()
	trs, err := e.stepTransitions(run, statemachine.StepPending, 1, now, "", statemachine.StepEvEnqueue)
	if err != nil {
		return nil, false, err
	}
	s, err := e.store.EnqueueOnlyChild(ctx, run.task.UUID, child, parent, trs, now)
	switch {
	case errors.Is(err, workflow.ErrNotFound):
		return nil, false, nil
	case errors.Is(err, workflow.ErrConflict):
		return nil, true, nil
	case err != nil:
		return nil, false, err
	}
	m, err := e.stepMessage(ctx, run, s, known)
	if err != nil {
		return nil, true, err
	}
	e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: child, State: string(statemachine.StepEnqueued), Attempt: 1, At: now})
	return &m, true, nil
}

// satisfy records parent's completion on child: convergence steps count
// their dependencies (fan-in may be thousands), other steps list them.
func (e *Engine) satisfy(ctx context.Context, run *taskRun, child, parent string) (*workflow.Step, error) {
	if ts, ok := run.tpl.Step(child); ok && ts.Type == template.StepDeferredConvergence {
		return e.store.SatisfyCounted(ctx, run.task.UUID, child, parent)
	}
	return e.store.SatisfyDependency(ctx, run.task.UUID, child, parent)
}

// otherThan returns names without name.
func otherThan(names []string, name string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// finalizeIfDone completes the task when no step holds it open (and ends a
// saga when its last compensation ran). Two completions racing here both
// look; the guarded transition lets one finish the task. covered says a
// covering sink's result was just applied (coveringSink): then no step can
// be open, and the count is skipped.
func (e *Engine) finalizeIfDone(ctx context.Context, taskUUID string, covered bool) error {
	t, err := e.store.GetTask(ctx, taskUUID)
	if err != nil {
		return err
	}
	switch {
	case t.Compensating && t.State == statemachine.TaskBlockedByFailures:
		open, err := e.store.OpenSteps(ctx, taskUUID, StepTypeCompensation)
		if err != nil || open > 0 {
			return err
		}
		return e.finishCompensation(ctx, t)
	case t.State != statemachine.TaskStepsInProcess:
		return nil
	}
	if !covered {
		open, err := e.store.OpenSteps(ctx, taskUUID, "")
		if err != nil || open > 0 {
			return err
		}
	}
	return e.completeTask(ctx, t)
}

// RejectResult fails a step's attempt permanently because its worker sent a
// result the engine cannot read; reason says what was wrong. Stale or
// duplicate rejections are no-ops.
func (e *Engine) RejectResult(ctx context.Context, taskUUID, stepName string, attempt int, reason string) error {
	if !identifiable(taskUUID, stepName) {
		e.log.WarnContext(ctx, "rejected result names no step; dropped", "task_uuid_bytes", len(taskUUID), "step_bytes", len(stepName))
		return nil
	}
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		if errors.Is(err, workflow.ErrNotFound) {
			return nil
		}
		return err
	}
	step, err := e.store.GetStep(ctx, taskUUID, stepName)
	if err != nil {
		if errors.Is(err, workflow.ErrNotFound) {
			return nil
		}
		return err
	}
	if step.Attempts != attempt {
		return nil
	}
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	return e.applyFailure(ctx, run, step, attempt, &protocol.StepError{
		Message: "invalid result message: " + reason, ErrorType: "invalid_result", Retryable: false})
}

// withoutKey returns a JSON object without one key (other JSON unchanged).
func withoutKey(obj json.RawMessage, k string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return obj
	}
	if _, ok := m[k]; !ok {
		return obj
	}
	delete(m, k)
	out, err := json.Marshal(m)
	if err != nil {
		return obj
	}
	return out
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// taskRun bundles what the engine needs while working on one task.
type taskRun struct {
	task *workflow.Task
	tpl  *template.Template
}

func (e *Engine) loadRun(ctx context.Context, taskUUID string) (*taskRun, error) {
	t, err := e.store.GetTask(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	return e.runOf(ctx, t)
}

// runOf pairs a task with its template.
func (e *Engine) runOf(ctx context.Context, t *workflow.Task) (*taskRun, error) {
	tpl, err := e.taskTemplate(ctx, t)
	if err != nil {
		return nil, err
	}
	return &taskRun{task: t, tpl: tpl}, nil
}

// accepting reports whether the task may start new steps.
func (r *taskRun) accepting() bool {
	return !r.task.Paused && !r.task.State.Terminal() && r.task.State != statemachine.TaskBlockedByFailures
}

// acceptingStep reports whether the task may start this step: compensation
// steps run while a saga holds the task in blocked_by_failures.
func (r *taskRun) acceptingStep(s *workflow.Step) bool {
	if s.Type == StepTypeCompensation {
		return !r.task.Paused && r.task.Compensating && r.task.State == statemachine.TaskBlockedByFailures
	}
	return r.accepting()
}

// resendGrace separates a concurrent enqueue (another delivery of the same
// event won the guarded write a moment ago and is sending the message) from a
// crashed one (the write happened, the send did not; the event came back after
// the queue's visibility timeout). Only the latter gets its message re-sent.
const resendGrace = 10 * time.Second

// enqueueSteps moves each step from its current state to enqueued (pending:
// enqueue; waiting_for_retry: retry then enqueue) and sends one message per
// step to the namespace's step queue. A step that another delivery enqueued
// for the same attempt more than resendGrace ago gets its message sent again
// (duplicates are harmless: the worker's claim is guarded); a step that moved
// on is skipped.
// known holds parent results already in hand.
// The steps it enqueued are updated in place to their stored state.
func (e *Engine) enqueueSteps(ctx context.Context, run *taskRun, steps []*workflow.Step, known map[string]json.RawMessage) error {
	now := e.now()
	var sent []*workflow.Step
	for _, s := range steps {
		evs := []statemachine.StepEvent{statemachine.StepEvEnqueue}
		if s.State == statemachine.StepWaitingForRetry {
			evs = []statemachine.StepEvent{statemachine.StepEvRetry, statemachine.StepEvEnqueue}
		}
		trs, err := e.stepTransitions(run, s.State, s.Attempts+1, now, "", evs...)
		if err != nil {
			return err
		}
		updated, err := e.store.TransitionStep(ctx, run.task.UUID, s.Name, dynamo.StepChange{
			From: []statemachine.StepState{s.State}, Attempts: s.Attempts, To: statemachine.StepEnqueued,
			At: now, Transitions: trs,
		})
		if err != nil {
			if !errors.Is(err, workflow.ErrConflict) {
				return err
			}
			cur, gerr := e.store.GetStep(ctx, run.task.UUID, s.Name)
			if gerr != nil {
				return gerr
			}
			if cur.State != statemachine.StepEnqueued || cur.Attempts != s.Attempts {
				continue
			}
			if cur.EnqueuedAt != nil && now.Sub(*cur.EnqueuedAt) < resendGrace {
				continue // a concurrent delivery enqueued it just now and sends the message
			}
			updated = cur
		}
		*s = *updated // the caller's copy shows the stored state
		sent = append(sent, s)
	}
	return e.sendEnqueued(ctx, run, sent, known, now)
}

// sendEnqueued sends the messages of steps already stored as enqueued, in
// batches, and publishes their events.
func (e *Engine) sendEnqueued(ctx context.Context, run *taskRun, steps []*workflow.Step, known map[string]json.RawMessage, now time.Time) error {
	if len(steps) == 0 {
		return nil
	}
	msgs := make([]sqsqueue.Message, 0, len(steps))
	for _, s := range steps {
		m, err := e.stepMessage(ctx, run, s, known)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		e.notify(Event{TaskUUID: run.task.UUID, Namespace: run.task.Namespace, StepName: s.Name, State: string(statemachine.StepEnqueued), Attempt: s.Attempts + 1, At: now})
	}
	return e.queue.SendBatch(ctx, e.cfg.Names.StepQueue(run.task.Namespace), msgs)
}

// stepTransitions builds the transition records for applying evs in order
// from state from, checking each hop against the step state machine.
func (e *Engine) stepTransitions(run *taskRun, from statemachine.StepState, attempt int, at time.Time, reason string, evs ...statemachine.StepEvent) ([]workflow.Transition, error) {
	path, err := statemachine.StepPath(from, evs...)
	if err != nil {
		return nil, err
	}
	trs := make([]workflow.Transition, len(path))
	for i, h := range path {
		trs[i] = workflow.Transition{From: string(h.From), To: string(h.To), Event: string(h.Event), Attempt: attempt,
			At: at, Processor: e.cfg.Processor, CorrelationID: run.task.CorrelationID, Reason: reason}
	}
	return trs, nil
}

// taskTransitions is stepTransitions for a task; it also returns the state
// the path ends in.
func (e *Engine) taskTransitions(t *workflow.Task, at time.Time, reason string, evs ...statemachine.TaskEvent) ([]workflow.Transition, statemachine.TaskState, error) {
	path, err := statemachine.TaskPath(t.State, evs...)
	if err != nil {
		return nil, t.State, err
	}
	trs := make([]workflow.Transition, len(path))
	for i, h := range path {
		trs[i] = workflow.Transition{From: string(h.From), To: string(h.To), Event: string(h.Event), At: at,
			Processor: e.cfg.Processor, CorrelationID: t.CorrelationID, Reason: reason}
	}
	to := t.State
	if len(path) > 0 {
		to = path[len(path)-1].To
	}
	return trs, to, nil
}

// moveTask walks the task machine from t's state through evs in one guarded
// write (extra may carry SweepAt or SetCompensating), records one audit
// entry per hop and notifies. It returns workflow.ErrConflict when the task
// left that state meanwhile.
func (e *Engine) moveTask(ctx context.Context, t *workflow.Task, reason string, extra dynamo.TaskChange, evs ...statemachine.TaskEvent) (*workflow.Task, error) {
	now := e.now()
	trs, to, err := e.taskTransitions(t, now, reason, evs...)
	if err != nil {
		return nil, err
	}
	extra.From, extra.To, extra.Transitions, extra.At = t.State, to, trs, now
	updated, err := e.store.TransitionTask(ctx, t.UUID, extra)
	if err != nil {
		return nil, err
	}
	e.notify(Event{TaskUUID: t.UUID, Namespace: t.Namespace, State: string(to), At: now})
	return updated, nil
}

// stepMessage builds the message for an enqueued step (or a pending one
// whose dependencies are met, sent without storing the enqueue): task context, handler
// configuration, direct parents' results and run-time inputs; stored out of
// line when too large to travel inline.
func (e *Engine) stepMessage(ctx context.Context, run *taskRun, s *workflow.Step, known map[string]json.RawMessage) (sqsqueue.Message, error) {
	ts, ok := run.tpl.Step(s.TemplateStep)
	if !ok {
		return sqsqueue.Message{}, fmt.Errorf("step %s: template step %q not in %s", s.Name, s.TemplateStep, run.tpl.Key())
	}
	taskCtx, err := e.taskContext(ctx, run.task.UUID)
	if err != nil {
		return sqsqueue.Message{}, err
	}
	if s.Type == string(template.StepDeferredConvergence) {
		known = nil // a convergence needs every parent's type and failure, so read them all
	}
	parents, err := e.parentResults(ctx, run.task.UUID, s.Dependencies, known)
	if err != nil {
		return sqsqueue.Message{}, err
	}
	init := ts.Initialization
	if s.Type == StepTypeCompensation && ts.Compensation != nil {
		init = ts.Compensation.Initialization
	}
	var cfg json.RawMessage
	if len(init) > 0 {
		if cfg, err = json.Marshal(init); err != nil {
			return sqsqueue.Message{}, fmt.Errorf("step %s config: %w", s.Name, err)
		}
	}
	timeout := s.TimeoutSecs
	if timeout == 0 {
		timeout = int(dynamo.DefaultStepTimeout / time.Second)
	}
	m := protocol.StepMessage{
		V: protocol.Version, TaskUUID: run.task.UUID, StepUUID: s.UUID, StepName: s.Name,
		Namespace: run.task.Namespace, TaskName: run.task.Name, TaskVersion: run.task.Version,
		Handler: s.Handler, StepType: s.Type, Attempt: s.Attempts + 1, MaxAttempts: s.MaxAttempts,
		TimeoutSecs: timeout, CorrelationID: run.task.CorrelationID, EnqueuedAt: e.now(),
		StepPayload: protocol.StepPayload{Context: taskCtx, Config: cfg, Parents: parents.results, ParentErrors: parents.errors,
			BatchParents: parents.batch, Inputs: s.Inputs, Checkpoint: s.Checkpoint},
	}
	if s.State == statemachine.StepPending {
		m.FromState = protocol.FromPending // sent without a stored enqueue: the claim moves it from pending
	}
	body, err := json.Marshal(m)
	if err != nil {
		return sqsqueue.Message{}, fmt.Errorf("step %s message: %w", s.Name, err)
	}
	if len(body) > protocol.MaxInlineBytes {
		payload, err := json.Marshal(m.StepPayload)
		if err != nil {
			return sqsqueue.Message{}, err
		}
		ref, err := e.store.SavePayload(ctx, run.task.UUID, fmt.Sprintf("%s#%d#input", s.Name, m.Attempt), payload)
		if err != nil {
			return sqsqueue.Message{}, err
		}
		m.StepPayload = protocol.StepPayload{}
		m.PayloadRef = ref
		if body, err = json.Marshal(m); err != nil {
			return sqsqueue.Message{}, err
		}
	}
	return sqsqueue.Message{Body: body, CorrelationID: run.task.CorrelationID}, nil
}

// parents holds what a step's message says about its direct parents.
type parents struct {
	results map[string]json.RawMessage
	errors  map[string]*protocol.StepError // parents that failed yet released the step
	batch   []string                       // parents that are batch worker instances
}

// parentResults returns the results of the named steps, using known results
// first and reading the rest.
func (e *Engine) parentResults(ctx context.Context, taskUUID string, deps []string, known map[string]json.RawMessage) (parents, error) {
	out := parents{results: make(map[string]json.RawMessage, len(deps))}
	var missing []string
	for _, d := range deps {
		if r, ok := known[d]; ok {
			out.results[d] = r
		} else {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	steps, err := e.store.GetSteps(ctx, taskUUID, missing)
	if err != nil {
		return out, err
	}
	for _, d := range missing {
		s, ok := steps[d]
		if !ok {
			continue
		}
		r, err := e.stepResult(ctx, s)
		if err != nil {
			return out, err
		}
		out.results[d] = r
		if s.Type == string(template.StepBatchWorker) {
			out.batch = append(out.batch, d)
		}
		if s.State == statemachine.StepError && s.Error != nil {
			if out.errors == nil {
				out.errors = map[string]*protocol.StepError{}
			}
			out.errors[d] = s.Error
		}
	}
	return out, nil
}

// stepResult returns a step's result, loading it when stored out of line.
func (e *Engine) stepResult(ctx context.Context, s *workflow.Step) (json.RawMessage, error) {
	if s.ResultRef != nil {
		b, err := e.store.LoadPayload(ctx, s.ResultRef)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	if len(s.Result) == 0 {
		return json.RawMessage("null"), nil
	}
	return s.Result, nil
}

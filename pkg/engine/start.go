package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// StartTask starts a pending task: moves it to steps_in_process and enqueues
// its root steps. Its initial steps exist, because the store writes them
// before the task. On a task that already started it re-enqueues root steps
// still pending (recovery after a crash between the two). It is what the
// scheduler runs for start_task messages and what the sweeper runs for
// tasks left pending.
func (e *Engine) StartTask(ctx context.Context, taskUUID string) error {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return err
	}
	_, err = e.startTask(ctx, run.task, run.tpl)
	return err
}

// startTask starts t: a task the sweeper found pending, or a new one with
// no initial step (it completes). A new task with root steps is created
// started instead (CreateTaskWithSteps).
func (e *Engine) startTask(ctx context.Context, t *workflow.Task, tpl *template.Template) (*workflow.Task, error) {
	now := e.now()
	initial := e.initialSteps(t, tpl, now)
	if t.State == statemachine.TaskPending {
		evs := []statemachine.TaskEvent{statemachine.TaskEvStart, statemachine.TaskEvReadyStepsFound, statemachine.TaskEvStepsEnqueued}
		if len(initial) == 0 {
			evs = []statemachine.TaskEvent{statemachine.TaskEvStart, statemachine.TaskEvNoStepsFound}
		}
		sweep := now.Add(e.firstCheck(tpl)) // (a change to a terminal state clears it)
		updated, err := e.moveTask(ctx, t, "", dynamo.TaskChange{SweepAt: sweep}, evs...)
		switch {
		case err == nil:
			t = updated
		case errors.Is(err, workflow.ErrConflict):
			if t, err = e.store.GetTask(ctx, t.UUID); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	}
	run := &taskRun{task: t, tpl: tpl}
	if !run.accepting() {
		return t, nil
	}
	var roots []string
	for _, s := range initial {
		if len(s.Dependencies) == 0 {
			roots = append(roots, s.Name)
		}
	}
	if len(roots) == 0 {
		return t, nil
	}
	current, err := e.store.GetSteps(ctx, t.UUID, roots)
	if err != nil {
		return nil, err
	}
	var ready []*workflow.Step
	for _, n := range roots {
		s, ok := current[n]
		if !ok {
			return nil, fmt.Errorf("start task %s: root step %s missing", t.UUID, n)
		}
		switch {
		case s.State == statemachine.StepPending:
			ready = append(ready, s)
		case s.State == statemachine.StepEnqueued && s.Attempts == 0 && s.EnqueuedAt != nil && e.now().Sub(*s.EnqueuedAt) >= resendGrace:
			// Enqueued by a start that crashed before sending: send again.
			if err := e.resend(ctx, run, s); err != nil {
				return nil, err
			}
		}
	}
	return t, e.enqueueSteps(ctx, run, ready, nil)
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	_, err = e.startTask(ctx, run.task, run.tpl, nil)
	return err
}

// startTask starts t. fresh, when not nil, holds the initial steps exactly as
// CreateTask just stored them, which saves reading them back.
func (e *Engine) startTask(ctx context.Context, t *workflow.Task, tpl *template.Template, fresh []*workflow.Step) (*workflow.Task, error) {
	now := e.now()
	initial := fresh
	if initial == nil {
		initial = e.initialSteps(t, tpl, now)
	}
	if t.State == statemachine.TaskPending {
		evs := []statemachine.TaskEvent{statemachine.TaskEvStart, statemachine.TaskEvReadyStepsFound, statemachine.TaskEvStepsEnqueued}
		if len(initial) == 0 {
			evs = []statemachine.TaskEvent{statemachine.TaskEvStart, statemachine.TaskEvNoStepsFound}
		}
		// A task created just now keeps the first check its creation set
		// (no sweep index move); one the sweeper starts gets the next.
		var sweep time.Time
		if fresh == nil {
			sweep = now.Add(e.firstCheck(tpl))
		}
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
	current := make(map[string]*workflow.Step, len(roots))
	if fresh != nil {
		for _, s := range fresh {
			current[s.Name] = s
		}
	} else {
		var err error
		if current, err = e.store.GetSteps(ctx, t.UUID, roots); err != nil {
			return nil, err
		}
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

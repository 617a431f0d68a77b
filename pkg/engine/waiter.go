package engine

import (
	"context"
	"sync"

	"github.com/tasker-go/tasker/pkg/statemachine"
)

// TaskWaiter turns the engine's notifications into per-task completion:
// pass its Notify as Config.Notify (or devstack's Options.Notify) and Wait
// blocks until a task reaches a terminal state, with no polling. The
// benchmark and the soak run observe completion this way.
type TaskWaiter struct {
	mu sync.Mutex
	ch map[string]chan string
}

// NewTaskWaiter returns a waiter with no task waited for.
func NewTaskWaiter() *TaskWaiter { return &TaskWaiter{ch: map[string]chan string{}} }

func (w *TaskWaiter) channel(taskUUID string) chan string {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.ch[taskUUID]
	if !ok {
		c = make(chan string, 1)
		w.ch[taskUUID] = c
	}
	return c
}

// Notify records a task's terminal state (it ignores step events and other
// states). It never blocks.
func (w *TaskWaiter) Notify(ev Event) {
	if ev.StepName != "" || !statemachine.TaskState(ev.State).Terminal() {
		return
	}
	select {
	case w.channel(ev.TaskUUID) <- ev.State:
	default:
	}
}

// Wait returns the terminal state of a task, whether it was reached before
// or after the call, and then forgets the task. It returns ctx.Err() when
// ctx ends first.
func (w *TaskWaiter) Wait(ctx context.Context, taskUUID string) (string, error) {
	c := w.channel(taskUUID)
	defer func() {
		w.mu.Lock()
		delete(w.ch, taskUUID)
		w.mu.Unlock()
	}()
	select {
	case st := <-c:
		return st, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

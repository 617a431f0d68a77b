package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/engine"
)

func TestTaskWaiter(t *testing.T) {
	t.Parallel()
	w := engine.NewTaskWaiter()
	// Reached before the wait, after it, ignored events, and a timeout.
	w.Notify(engine.Event{TaskUUID: "early", State: "complete"})
	w.Notify(engine.Event{TaskUUID: "early", State: "error"}) // a second terminal event does not block
	if st, err := w.Wait(context.Background(), "early"); err != nil || st != "complete" {
		t.Fatalf("early: %q %v", st, err)
	}
	go func() {
		w.Notify(engine.Event{TaskUUID: "late", StepName: "a", State: "complete"}) // a step
		w.Notify(engine.Event{TaskUUID: "late", State: "steps_in_process"})        // not terminal
		w.Notify(engine.Event{TaskUUID: "late", State: "error"})
	}()
	if st, err := w.Wait(context.Background(), "late"); err != nil || st != "error" {
		t.Fatalf("late: %q %v", st, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Wait(ctx, "never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("never: %v", err)
	}
}

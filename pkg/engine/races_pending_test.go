package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/workflow"
)

const pendingChainYAML = `
namespace: pend_ns
name: pend
version: "1.0.0"
steps:
  - {name: a, handler: add}
  - {name: b, handler: add, dependencies: [a]}
`

// runRoot creates a task of pendingChainYAML, runs its root a and returns
// the task and b's message, sent from pending.
func runRoot(t *testing.T, b *bare) (*workflow.Task, protocol.StepMessage) {
	t.Helper()
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "pend_ns", Name: "pend"})
	if err != nil {
		t.Fatal(err)
	}
	queue := b.f.Names.StepQueue("pend_ns")
	roots := b.drain(t, queue)
	if len(roots) != 1 {
		t.Fatalf("roots %+v", roots)
	}
	if _, err := b.store.ClaimStep(ctx, task.UUID, "a", 1, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.HandleResult(ctx, success(roots[0], `{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	msgs := b.drain(t, queue)
	if len(msgs) != 1 || msgs[0].StepName != "b" || !msgs[0].ClaimsPending() {
		t.Fatalf("b's message %+v", msgs)
	}
	return task, msgs[0]
}

// TestPauseHoldsAChildSentFromPending: a child made ready by its parent is
// pending with its message (from_state pending) on the queue. Pausing the
// task moves it to waiting_for_retry with the enqueued steps, so that
// message's claim fails and nothing starts in a paused task; resumed, the
// child is enqueued again and runs.
func TestPauseHoldsAChildSentFromPending(t *testing.T) {
	t.Parallel()
	b := newBare(t, mustParse(t, pendingChainYAML))
	ctx := context.Background()
	task, m := runRoot(t, b)
	if _, err := b.eng.PauseTask(ctx, task.UUID, "ops"); err != nil {
		t.Fatal(err)
	}
	// The worker receives b's message after the pause.
	_, err := b.store.ClaimPendingStep(ctx, task.UUID, "b", m.Attempt, time.Minute, "w", m.CorrelationID, m.EnqueuedAt, b.clock())
	if !errors.Is(err, workflow.ErrConflict) {
		t.Fatalf("claim of a step sent before the pause, received after it: %v, want a conflict (the step ran in a paused task)", err)
	}
	// Resumed, b is enqueued again and runs.
	if _, err := b.eng.ResumeTask(ctx, task.UUID, "ops"); err != nil {
		t.Fatal(err)
	}
	again := b.drain(t, b.f.Names.StepQueue("pend_ns"))
	if len(again) != 1 || again[0].StepName != "b" || again[0].ClaimsPending() {
		t.Fatalf("after resume: %+v", again)
	}
	if _, err := b.store.ClaimStep(ctx, task.UUID, "b", again[0].Attempt, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatalf("claim after resume: %v", err)
	}
}

// TestCancelHoldsAChildSentFromPending: the same for cancel (sound: cancel
// moves pending steps to cancelled).
func TestCancelHoldsAChildSentFromPending(t *testing.T) {
	t.Parallel()
	b := newBare(t, mustParse(t, pendingChainYAML))
	ctx := context.Background()
	task, m := runRoot(t, b)
	if _, err := b.eng.CancelTask(ctx, task.UUID, "", "ops"); err != nil {
		t.Fatal(err)
	}
	_, err := b.store.ClaimPendingStep(ctx, task.UUID, "b", m.Attempt, time.Minute, "w", m.CorrelationID, m.EnqueuedAt, b.clock())
	if !errors.Is(err, workflow.ErrConflict) {
		t.Fatalf("claim after cancel: %v, want a conflict", err)
	}
}

// earlyCheckQueue delivers a first check (attempt 0) to the engine as soon
// as it is sent, as SQS would were the creation slower than the message's
// delay, and holds the check's second look (attempt 1) until the test
// delivers it.
type earlyCheckQueue struct {
	engine.Queue
	queue string
	eng   func() *engine.Engine
	mu    sync.Mutex
	errs  []error
	held  []protocol.OrchestrationMessage
}

func (q *earlyCheckQueue) Send(ctx context.Context, queue string, m sqsqueue.Message) error {
	var om protocol.OrchestrationMessage
	if queue == q.queue && json.Unmarshal(m.Body, &om) == nil && om.Kind == protocol.KindCheckTask {
		if om.Attempt > 0 {
			q.mu.Lock()
			q.held = append(q.held, om)
			q.mu.Unlock()
			return nil
		}
		err := q.eng().HandleOrchestration(ctx, &om)
		q.mu.Lock()
		q.errs = append(q.errs, err)
		q.mu.Unlock()
		return nil
	}
	return q.Queue.Send(ctx, queue, m)
}

// TestFirstCheckArrivingBeforePublishIsNotLost: a first check that
// finds no task (its creation had not written the task item yet) comes once
// more a minute later; then it finds the task, whose lost root message it
// sends again.
func TestFirstCheckArrivingBeforePublishIsNotLost(t *testing.T) {
	t.Parallel()
	var q *earlyCheckQueue
	var b *bare
	b = newBareWith(t, mustParse(t, pendingChainYAML), func(c *engine.Config) {
		c.IndexFirstCheck = false
		q = &earlyCheckQueue{Queue: c.Queue, eng: func() *engine.Engine { return b.eng }}
		c.Queue = q
	})
	q.queue = b.f.Names.OrchestrationQueue()
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "pend_ns", Name: "pend"})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.errs) != 1 || q.errs[0] != nil || len(q.held) != 1 || q.held[0].TaskUUID != task.UUID {
		t.Fatalf("first check: errors %v, second looks %+v", q.errs, q.held)
	}
	if lost := b.drain(t, b.f.Names.StepQueue("pend_ns")); len(lost) != 1 {
		t.Fatalf("root messages %+v", lost) // lost
	}
	b.now.Add(int64(70 * time.Second))
	if err := b.eng.HandleOrchestration(ctx, &q.held[0]); err != nil {
		t.Fatal(err)
	}
	if again := b.drain(t, b.f.Names.StepQueue("pend_ns")); len(again) != 1 || again[0].StepName != "a" {
		t.Fatalf("the check's second look did not send the lost root again: %+v", again)
	}
}

// slowCheckQueue advances the fake clock while the first check is sent, as
// a creation that stalls would.
type slowCheckQueue struct {
	engine.Queue
	queue string
	stall func()
}

func (q *slowCheckQueue) Send(ctx context.Context, queue string, m sqsqueue.Message) error {
	if queue == q.queue {
		q.stall()
	}
	return q.Queue.Send(ctx, queue, m)
}

// TestSlowCreationDoesNotPublish: a creation that takes longer than
// PublishWithin gives up before writing the task item (another creation may
// by then take its identity over and publish), releases the identity and
// says so; the retry creates the task.
func TestSlowCreationDoesNotPublish(t *testing.T) {
	t.Parallel()
	var (
		b     *bare
		q     *slowCheckQueue
		stall = true
	)
	b = newBareWith(t, mustParse(t, pendingChainYAML), func(c *engine.Config) {
		c.IndexFirstCheck = false
		q = &slowCheckQueue{Queue: c.Queue, stall: func() {
			if stall {
				b.now.Add(int64(engine.PublishWithin + time.Second))
			}
		}}
		c.Queue = q
	})
	q.queue = b.f.Names.OrchestrationQueue()
	ctx := context.Background()
	req := engine.TaskRequest{Namespace: "pend_ns", Name: "pend", Context: json.RawMessage(`{"same":1}`)}
	if _, err := b.eng.CreateTask(ctx, req); !errors.Is(err, engine.ErrCreationTooSlow) {
		t.Fatalf("slow creation: %v, want ErrCreationTooSlow", err)
	}
	if msgs := b.drain(t, b.f.Names.StepQueue("pend_ns")); len(msgs) != 0 {
		t.Fatalf("a creation that gave up sent %+v", msgs)
	}
	stall = false
	task, err := b.eng.CreateTask(ctx, req)
	if err != nil {
		t.Fatalf("the retry of a creation that gave up: %v", err)
	}
	if got, err := b.store.GetTask(ctx, task.UUID); err != nil || got.State != "steps_in_process" {
		t.Fatalf("task %+v %v", got, err)
	}
}

// TestStepActionAnswerShowsDerivedDependencies: a multi-parent child
// records no parent's completion on its item; the answer to an operator's
// step action, like the listing, derives its met dependencies from its
// parents' states.
func TestStepActionAnswerShowsDerivedDependencies(t *testing.T) {
	t.Parallel()
	b := newBare(t, mustParse(t, chainYAML))
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	queue := b.f.Names.StepQueue("chain_ns")
	for range 2 { // a, then b and c
		for _, m := range b.drain(t, queue) {
			if _, err := claimStep(ctx, b.store, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", "", b.clock()); err != nil {
				t.Fatal(err)
			}
			if err := b.eng.HandleResult(ctx, success(m, `{"n":1}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps, err := b.store.ListSteps(ctx, task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	var d *workflow.Step
	for _, s := range steps {
		if s.Name == "d" {
			d = s
		}
	}
	if d == nil || d.State != "pending" || !d.DependenciesMet() {
		t.Fatalf("d listed %+v", d)
	}
	got, err := b.eng.ApplyStepAction(ctx, task.UUID, d.UUID, engine.StepAction{Type: engine.ActionResolveManually, By: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.DependenciesMet() {
		t.Fatalf("step action answer: d satisfied %v of %v, though b and c completed", got.Satisfied, got.Dependencies)
	}
}

package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// TestReadyChildrenAreSentWithoutWrites runs the diamond a → {b, c} → d
// and records every UpdateItem the engine makes: the children made ready by
// their parents' results are sent from pending (no write to their items; d
// reads its other parent instead of recording each completion), and each
// child's claim records its enqueue, so the audit trail still reads
// pending → enqueued → in_progress → … → complete.
func TestReadyChildrenAreSentWithoutWrites(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	b := newBare(t, tp)
	eng, rec := b.recordingEngine(t, sqsqueue.New(b.f.Env.SQS, b.f.Provisioned.QueueURLs))
	ctx := context.Background()
	task, err := eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	queue := b.f.Names.StepQueue("chain_ns")
	run := func(m protocol.StepMessage) {
		t.Helper()
		claim := b.store.ClaimStep
		if m.ClaimsPending() {
			claim = func(ctx context.Context, task, step string, attempt int, timeout time.Duration, w, corr string, now time.Time) (*workflow.Step, error) {
				return b.store.ClaimPendingStep(ctx, task, step, attempt, timeout, w, corr, m.EnqueuedAt, now)
			}
		}
		if _, err := claim(ctx, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", m.CorrelationID, b.clock()); err != nil {
			t.Fatalf("claim %s: %v", m.StepName, err)
		}
		b.now.Add(int64(time.Millisecond)) // the records of the claim and the completion sort by their write times
		if err := eng.HandleResult(ctx, success(m, `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		order []string
		sent  = map[string]string{} // step → the step_uuid its message carried
	)
	for len(order) < 4 {
		msgs := b.drain(t, queue)
		if len(msgs) == 0 {
			t.Fatalf("no step messages after %v", order)
		}
		for _, m := range msgs {
			if want := m.StepName != "a"; m.ClaimsPending() != want {
				t.Fatalf("%s's message from_state %q", m.StepName, m.FromState)
			}
			order = append(order, m.StepName)
			sent[m.StepName] = m.StepUUID
			run(m)
		}
	}
	// Each step's item is written by its completion and by nothing else of
	// the engine's (the claims went through b.store, not the recorder); the
	// task item by its completion.
	slices.Sort(rec.keys)
	if want := []string{"S#a", "S#b", "S#c", "S#d", "TASK"}; !slices.Equal(rec.keys, want) {
		t.Fatalf("engine updates %v, want %v", rec.keys, want)
	}
	done, err := b.store.GetTask(ctx, task.UUID)
	if err != nil || done.State != "complete" {
		t.Fatalf("task %+v %v", done, err)
	}
	steps, err := b.store.ListSteps(ctx, task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		// b and c, whose only parent is a, were sent without being read:
		// their derived UUIDs must be the stored ones.
		if sent[s.Name] != s.UUID {
			t.Fatalf("step %s: its message carried step_uuid %s, its item holds %s", s.Name, sent[s.Name], s.UUID)
		}
		var path []string
		for _, tr := range s.History {
			path = append(path, tr.To)
		}
		want := []string{"pending", "enqueued", "in_progress", "enqueued_for_orchestration", "complete"}
		if !slices.Equal(path, want) || s.EnqueuedAt == nil || !s.DependenciesMet() {
			t.Fatalf("step %s: states %v (want %v), enqueued_at %v, dependencies met %v", s.Name, path, want, s.EnqueuedAt, s.DependenciesMet())
		}
	}
}

// TestLostPendingMessageIsEnqueuedByTheCheck loses the message of a child
// sent from pending. The task's check leaves a ready pending step alone for
// EnqueueResendAfter (its message may sit in the queue), then stores its
// enqueue and sends a new message; the old message, if it turns up, fails
// its claim.
func TestLostPendingMessageIsEnqueuedByTheCheck(t *testing.T) {
	t.Parallel()
	b := newBareWith(t, mustParse(t, pendingChainYAML), func(c *engine.Config) { c.EnqueueResendAfter = 5 * time.Minute })
	ctx := context.Background()
	queue := b.f.Names.StepQueue("pend_ns")
	task, m := runRoot(t, b)
	lost := []protocol.StepMessage{m} // and now it is lost
	b.now.Add(int64(2 * time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Enqueued != 0 || rep.Examined == 0 {
		t.Fatalf("check within EnqueueResendAfter of b becoming ready: %+v %v", rep, err)
	}
	if got := b.drain(t, queue); len(got) != 0 {
		t.Fatalf("sent before EnqueueResendAfter: %+v", got)
	}
	b.now.Add(int64(4 * time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Enqueued != 1 {
		t.Fatalf("check after EnqueueResendAfter: %+v %v", rep, err)
	}
	again := b.drain(t, queue)
	if len(again) != 1 || again[0].StepName != "b" || again[0].ClaimsPending() || again[0].Attempt != 1 {
		t.Fatalf("b's new message %+v, want one from its stored enqueue", again)
	}
	old := lost[0]
	if _, err := b.store.ClaimPendingStep(ctx, task.UUID, "b", 1, time.Minute, "w", "", old.EnqueuedAt, b.clock()); !errors.Is(err, workflow.ErrConflict) {
		t.Fatalf("claim of the old message: %v, want a conflict", err)
	}
	if _, err := b.store.ClaimStep(ctx, task.UUID, "b", 1, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatalf("claim of the new message: %v", err)
	}
}

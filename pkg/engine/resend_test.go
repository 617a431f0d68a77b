package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// createClaimed creates a task of tp (with ctx as its context) and claims
// its root step as a worker that then dies.
func (b *bare) createClaimed(t *testing.T, tp *template.Template, ctx map[string]int, step string, timeout time.Duration) *workflow.Task {
	t.Helper()
	task, err := b.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: tp.Namespace, Name: tp.Name, Context: jsonOf(t, ctx)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claimStep(context.Background(), b.store, task.UUID, step, 1, timeout, "doomed-worker", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	return task
}

// TestLostStepMessageIsSentAgain loses an enqueued step's message. Enqueued
// steps stay out of the sweep index (it would cost two index writes per
// step); the task's own check, due every EnqueueResendAfter, finds the step
// and sends its message again.
func TestLostStepMessageIsSentAgain(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: lost_ns
name: lost
version: "1.0.0"
steps:
  - {name: a, handler: add}
  - {name: b, handler: add, dependencies: [a]}
`)
	b := newBareWith(t, tp, func(c *engine.Config) { c.EnqueueResendAfter = time.Minute })
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "lost_ns", Name: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	queue := b.f.Names.StepQueue("lost_ns")
	if got := b.drain(t, queue); len(got) != 1 || got[0].StepName != "a" {
		t.Fatalf("first send: %+v", got) // and the message is now lost
	}
	item, err := b.f.Env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b.f.Names.StateTable()),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "T#" + task.UUID}, "sk": &types.AttributeValueMemberS{Value: "S#a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, indexed := item.Item["sweep_at"]; indexed {
		t.Fatal("an enqueued step is in the sweep index")
	}

	b.now.Add(int64(30 * time.Second))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Resent != 0 {
		t.Fatalf("sweep before the resend interval: %+v %v", rep, err)
	}
	b.now.Add(int64(31 * time.Second))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Resent != 1 || rep.Stale != 0 {
		t.Fatalf("sweep after the resend interval: %+v %v", rep, err)
	}
	got := b.drain(t, queue)
	if len(got) != 1 || got[0].StepName != "a" || got[0].Attempt != 1 {
		t.Fatalf("message sent again: %+v", got)
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "a", 1, time.Hour, "w", "", b.clock()); err != nil {
		t.Fatalf("the resent message is claimable: %v", err)
	}

	// The task's check comes round again; a claimed step is not resent.
	b.now.Add(int64(61 * time.Second))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Resent != 0 || rep.Examined == 0 {
		t.Fatalf("next check: %+v %v", rep, err)
	}
	if got := b.drain(t, queue); len(got) != 0 {
		t.Fatalf("a claimed step was sent again: %+v", got)
	}
}

// TestClaimStaysOutOfSweepIndex checks the writes behind the task-level
// checks: a claim records its deadline without entering the sweep index,
// and a new task's first check comes when its shortest-lived step's claim
// could first need timing out (timeout + grace), so the check that finds a
// dead worker is not late (TestAbandonedStepIsRetriedAfterTimeout runs it).
func TestClaimStaysOutOfSweepIndex(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: claim_ns
name: claim
version: "1.0.0"
steps:
  - {name: s, handler: add, timeout_seconds: 5}
  - {name: t, handler: add, dependencies: [s], timeout_seconds: 600}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	created := b.clock()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "claim_ns", Name: "claim"})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(sk string) map[string]types.AttributeValue {
		t.Helper()
		out, err := b.f.Env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b.f.Names.StateTable()), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "T#" + task.UUID}, "sk": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	sweepAt := func(item map[string]types.AttributeValue) string {
		v, _ := item["sweep_at"].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	wantFirst := created.Add(5*time.Second + dynamo.ClaimGrace).UTC().Format("2006-01-02T15:04:05.000000000Z")
	if got := sweepAt(raw("TASK")); got != wantFirst {
		t.Fatalf("task's first check %q, want %q (creation + the 5 s step's timeout + grace)", got, wantFirst)
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "s", 1, 5*time.Second, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	step := raw("S#s")
	if _, indexed := step["sweep_shard"]; indexed || sweepAt(step) == "" {
		t.Fatalf("claimed step: sweep_shard present %v, sweep_at %q; want the deadline without the shard", indexed, sweepAt(step))
	}
}

// TestSweepTakesSeveralRounds: with more items due than one read returns,
// one sweep keeps reading until none is left, handling them concurrently.
func TestSweepTakesSeveralRounds(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: rounds_ns
name: rounds
version: "1.0.0"
steps:
  - {name: s, handler: add, timeout_seconds: 5}
`)
	b := newBareWith(t, tp, func(c *engine.Config) { c.SweepBatch = 4 })
	ctx := context.Background()
	const tasks = 11
	for i := range tasks {
		b.createClaimed(t, tp, map[string]int{"i": i}, "s", 5*time.Second)
	}
	b.now.Add(int64(5*time.Second + dynamo.ClaimGrace + time.Second))
	rep, err := b.eng.Sweep(ctx)
	if err != nil || rep.Examined != tasks || rep.TimedOut != tasks || rep.Errors != 0 || rep.Truncated {
		t.Fatalf("one sweep over %d due tasks, 4 per read: %+v %v", tasks, rep, err)
	}
}

// TestPausedTaskIsCheckedSeldom: a paused task whose only open step waits
// to be enqueued has nothing a worker can claim, so its checks fall back to
// the resend interval instead of every claim window.
func TestPausedTaskIsCheckedSeldom(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: paused_ns
name: paused
version: "1.0.0"
steps:
  - {name: a, handler: add, timeout_seconds: 5}
  - {name: b, handler: add, dependencies: [a], timeout_seconds: 5}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "paused_ns", Name: "paused"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := b.drain(t, b.f.Names.StepQueue("paused_ns"))
	if _, err := claimStep(ctx, b.store, task.UUID, "a", 1, 5*time.Second, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PauseTask(ctx, task.UUID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.HandleResult(ctx, success(msgs[0], `{}`)); err != nil {
		t.Fatal(err)
	}
	b.now.Add(int64(time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Examined != 1 || rep.Enqueued != 0 {
		t.Fatalf("check of the paused task: %+v %v", rep, err)
	}
	b.now.Add(int64(5 * time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Examined != 0 {
		t.Fatalf("a paused task with nothing to claim was checked again within minutes: %+v %v", rep, err)
	}
}

// TestStaleTaskLeftAloneIsStillChecked: staleness_action none leaves the
// task running, so its checks go on; a dead worker's claim is still timed
// out after the task was judged stale.
func TestStaleTaskLeftAloneIsStillChecked(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: none_ns
name: none
version: "1.0.0"
lifecycle: {max_steps_in_process_minutes: 1, staleness_action: none}
steps:
  - {name: s, handler: add, timeout_seconds: 300}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	b.createClaimed(t, tp, nil, "s", 300*time.Second)
	b.now.Add(int64(2 * time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Stale != 1 {
		t.Fatalf("stale check: %+v %v", rep, err)
	}
	b.now.Add(int64(10 * time.Minute)) // past the claim's deadline (330 s)
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.TimedOut != 1 {
		t.Fatalf("a stale task left alone must still have its dead claims timed out: %+v %v", rep, err)
	}
}

// TestRetriedClaimTimedOutWithinAWindow: a step claimed after the task's
// last check (here a retry) is timed out within one claim window of its
// deadline, not at the resend interval.
func TestRetriedClaimTimedOutWithinAWindow(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: retry_ns
name: retry
version: "1.0.0"
steps:
  - {name: s, handler: add, timeout_seconds: 5, retry: {max_attempts: 3, backoff_base_ms: 100, max_backoff_ms: 1000}}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	task := b.createClaimed(t, tp, nil, "s", 5*time.Second)
	queue := b.f.Names.StepQueue("retry_ns")
	b.drain(t, queue)
	b.now.Add(int64(5*time.Second + dynamo.ClaimGrace + time.Second))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.TimedOut != 1 {
		t.Fatalf("attempt 1: %+v %v", rep, err)
	}
	b.now.Add(int64(2 * time.Second)) // the retry's delay has passed
	if err := b.eng.HandleOrchestration(ctx, &protocol.OrchestrationMessage{V: protocol.Version, Kind: protocol.KindRetryStep,
		TaskUUID: task.UUID, StepName: "s", Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	b.drain(t, queue)
	if _, err := claimStep(ctx, b.store, task.UUID, "s", 2, 5*time.Second, "doomed-worker-2", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	// Deadline: claim + 35 s; the task's checks come every 35 s (the
	// step's claim window), so within 70 s of the claim it is timed out.
	for range 3 {
		b.now.Add(int64(25 * time.Second))
		if _, err := b.eng.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := b.store.GetStep(ctx, task.UUID, "s")
	if err != nil {
		t.Fatal(err)
	}
	if s.State == "in_progress" {
		t.Fatalf("attempt 2 still in progress 75 s after its claim (deadline 35 s)")
	}
}

// TestResentMessageWaitsAnInterval: a message sent again (here a root whose
// send after creation looks lost) is not sent again at every check of its
// task, only once EnqueueResendAfter has passed since the last resend: a
// backed-up queue does not fill with duplicates.
func TestResentMessageWaitsAnInterval(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: backlog_ns
name: backlog
version: "1.0.0"
steps:
  - {name: s, handler: add, timeout_seconds: 5}
`)
	b := newBareWith(t, tp, func(c *engine.Config) { c.EnqueueResendAfter = 2 * time.Minute })
	ctx := context.Background()
	if _, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "backlog_ns", Name: "backlog"}); err != nil {
		t.Fatal(err)
	}
	// Checks every 35 s (the step's claim window); the step stays enqueued.
	var resent []int
	for range 4 {
		b.now.Add(int64(40 * time.Second))
		rep, err := b.eng.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resent = append(resent, rep.Resent)
	}
	// +40 s: the first check resends the root once; +80, +120 s: within 2
	// minutes of that resend; +160 s: 2 minutes after it.
	if want := []int{1, 0, 0, 1}; !slices.Equal(resent, want) {
		t.Fatalf("resends per check %v, want %v", resent, want)
	}
}

package engine_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
)

// interleaving runs a hook around the first transaction that carries a
// condition check (the guarded creation of a decision's steps): the test's
// way to let a timeout land at a chosen point inside HandleResult. All other
// calls go straight to the emulator.
type interleaving struct {
	*dynamodb.Client
	before, after func()
	once          sync.Once
}

func (w *interleaving) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	guarded := slices.ContainsFunc(in.TransactItems, func(it types.TransactWriteItem) bool { return it.ConditionCheck != nil })
	if !guarded {
		return w.Client.TransactWriteItems(ctx, in, opts...)
	}
	first := false
	w.once.Do(func() { first = true })
	if first && w.before != nil {
		w.before()
	}
	out, err := w.Client.TransactWriteItems(ctx, in, opts...)
	if first && w.after != nil {
		w.after()
	}
	return out, err
}

// TestLateDecisionLeavesNoSteps delivers the success of a decision whose
// attempt times out while the result is being applied, just before and just
// after its branch steps are written. Either way the late outcome leaves no
// step behind, and the retry's different choice is the only one that runs.
func TestLateDecisionLeavesNoSteps(t *testing.T) {
	t.Parallel()
	for _, when := range []string{"before", "after"} {
		t.Run("timeout "+when+" the branch steps are written", func(t *testing.T) {
			t.Parallel()
			tp := mustParse(t, `
namespace: late_ns
name: late
version: "1.0.0"
steps:
  - {name: s, handler: ok}
  - {name: d, type: decision, dependencies: [s], handler: pick, timeout_seconds: 5, retry: {max_attempts: 3, backoff_base_ms: 100, max_backoff_ms: 1000}}
  - {name: a, handler: ok, dependencies: [d]}
  - {name: b, handler: ok, dependencies: [d]}
`)
			var b *bare
			hook := &interleaving{}
			timeout := func() {
				b.now.Add(int64(5*time.Second + dynamo.ClaimGrace + time.Second))
				if rep, err := b.eng.Sweep(context.Background()); err != nil || rep.TimedOut != 1 {
					t.Errorf("sweep: %+v %v", rep, err)
				}
			}
			if when == "before" {
				hook.before = timeout
			} else {
				hook.after = timeout
			}
			b = newBare(t, tp)
			hook.Client = b.f.Env.DynamoDB
			eng, err := engine.New(engine.Config{Store: dynamo.New(hook, b.store.Table()),
				Queue: sqsqueue.New(b.f.Env.SQS, b.f.Provisioned.QueueURLs), Names: b.f.Names, Clock: b.clock, IndexFirstCheck: true})
			if err != nil {
				t.Fatal(err)
			}
			b.eng = eng
			ctx := context.Background()
			task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "late_ns", Name: "late"})
			if err != nil {
				t.Fatal(err)
			}
			msgs := b.drain(t, b.f.Names.StepQueue("late_ns"))
			if len(msgs) != 1 {
				t.Fatalf("want the first step enqueued, got %d messages", len(msgs))
			}
			if _, err := claimStep(ctx, b.store, task.UUID, "s", 1, time.Minute, "w", "", b.clock()); err != nil {
				t.Fatal(err)
			}
			if err := b.eng.HandleResult(ctx, success(msgs[0], `{}`)); err != nil {
				t.Fatal(err)
			}
			msgs = b.drain(t, b.f.Names.StepQueue("late_ns"))
			if len(msgs) != 1 || msgs[0].StepName != "d" {
				t.Fatalf("want the decision enqueued, got %+v", msgs)
			}
			if _, err := claimStep(ctx, b.store, task.UUID, "d", 1, 5*time.Second, "slow-worker", "", b.clock()); err != nil {
				t.Fatal(err)
			}
			late := success(msgs[0], `{"decision_point_outcome":{"type":"create_steps","step_names":["a"]}}`)
			if err := b.eng.HandleResult(ctx, late); err != nil {
				t.Fatal(err)
			}
			if got := stepNames(t, b, task.UUID); !slices.Equal(got, []string{"d", "s"}) {
				t.Fatalf("after the late outcome the task has steps %v, want only [d s]", got)
			}
			d, err := b.store.GetStep(ctx, task.UUID, "d")
			if err != nil {
				t.Fatal(err)
			}
			if d.State != "waiting_for_retry" || d.Attempts != 1 {
				t.Fatalf("decision is %s at attempt %d, want waiting_for_retry at 1", d.State, d.Attempts)
			}

			b.now.Add(int64(2 * time.Minute))
			if rep, err := b.eng.Sweep(ctx); err != nil || rep.Retried != 1 {
				t.Fatalf("retry sweep: %+v %v", rep, err)
			}
			msgs = b.drain(t, b.f.Names.StepQueue("late_ns"))
			if len(msgs) != 1 || msgs[0].Attempt != 2 {
				t.Fatalf("want one attempt-2 message, got %+v", msgs)
			}
			if _, err := claimStep(ctx, b.store, task.UUID, "d", 2, 5*time.Second, "w", "", b.clock()); err != nil {
				t.Fatal(err)
			}
			if err := b.eng.HandleResult(ctx, success(msgs[0], `{"decision_point_outcome":{"type":"create_steps","step_names":["b"]}}`)); err != nil {
				t.Fatal(err)
			}
			if got := stepNames(t, b, task.UUID); !slices.Equal(got, []string{"b", "d", "s"}) {
				t.Fatalf("after the retry the task has steps %v, want [b d s]", got)
			}
			// The late attempt-1 result, redelivered now, changes nothing.
			if err := b.eng.HandleResult(ctx, late); err != nil {
				t.Fatal(err)
			}
			if got := stepNames(t, b, task.UUID); !slices.Equal(got, []string{"b", "d", "s"}) {
				t.Fatalf("after a redelivered late result the task has steps %v", got)
			}
		})
	}
}

func stepNames(t *testing.T, b *bare, taskUUID string) []string {
	t.Helper()
	steps, err := b.store.ListSteps(context.Background(), taskUUID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

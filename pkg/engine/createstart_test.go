package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
)

// updateRecorder records the sort keys of the UpdateItem calls it forwards.
type updateRecorder struct {
	*dynamodb.Client
	mu   sync.Mutex
	keys []string
}

func (u *updateRecorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	u.mu.Lock()
	if sk, ok := in.Key["sk"].(*types.AttributeValueMemberS); ok {
		u.keys = append(u.keys, sk.Value)
	}
	u.mu.Unlock()
	return u.Client.UpdateItem(ctx, in, opts...)
}

// TestTaskStartsInItsCreatingWrite: a new task is written already started
// (its start's records with its creation's), so creating it updates only
// its root steps, never the task item; its audit trail is the same.
func TestTaskStartsInItsCreatingWrite(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	b := newBare(t, tp)
	rec := &updateRecorder{Client: b.f.Env.DynamoDB}
	eng, err := engine.New(engine.Config{Store: dynamo.New(rec, b.store.Table()),
		Queue: sqsqueue.New(b.f.Env.SQS, b.f.Provisioned.QueueURLs), Names: b.f.Names, Clock: b.clock})
	if err != nil {
		t.Fatal(err)
	}
	task, err := eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 1 || rec.keys[0] != "S#a" {
		t.Fatalf("updates while creating: %v, want only the root step S#a", rec.keys)
	}
	got, err := b.store.GetTask(context.Background(), task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, tr := range got.History {
		path = append(path, tr.From+">"+tr.To)
	}
	want := []string{">pending", "pending>initializing", "initializing>enqueuing_steps", "enqueuing_steps>steps_in_process"}
	if got.State != "steps_in_process" || len(path) != len(want) {
		t.Fatalf("task %s, trail %v; want steps_in_process, %v", got.State, path, want)
	}
	for i := range want {
		if path[i] != want[i] {
			t.Fatalf("trail %v, want %v", path, want)
		}
	}
	if msgs := b.drain(t, b.f.Names.StepQueue("chain_ns")); len(msgs) != 1 || msgs[0].StepName != "a" {
		t.Fatalf("root messages %+v", msgs)
	}
}

// TestLostRootEnqueueIsRecovered creates a task whose root enqueue never
// happened (the process died after the creating write): the task's first
// check finds the ready root and enqueues it.
func TestLostRootEnqueueIsRecovered(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	queue := b.f.Names.StepQueue("chain_ns")
	b.drain(t, queue)
	// Undo the root's enqueue as if it never happened.
	if err := b.store.ApplyStepChange(ctx, task.UUID, "a", dynamo.StepChange{From: []statemachine.StepState{statemachine.StepEnqueued}, Attempts: 0,
		To: statemachine.StepPending, At: b.clock()}); err != nil {
		t.Fatal(err)
	}
	b.now.Add(int64(5 * time.Second))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Enqueued != 0 {
		t.Fatalf("sweep before the first check: %+v %v", rep, err)
	}
	b.now.Add(int64(2 * time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Enqueued != 1 {
		t.Fatalf("first check: %+v %v", rep, err)
	}
	if msgs := b.drain(t, queue); len(msgs) != 1 || msgs[0].StepName != "a" || msgs[0].Attempt != 1 {
		t.Fatalf("root messages after the check %+v", msgs)
	}
}

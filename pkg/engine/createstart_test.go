package engine_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// recordingEngine is a second engine on b's table, sending through q, whose
// DynamoDB UpdateItem calls rec records.
func (b *bare) recordingEngine(t *testing.T, q engine.Queue) (*engine.Engine, *updateRecorder) {
	t.Helper()
	rec := &updateRecorder{Client: b.f.Env.DynamoDB}
	eng, err := engine.New(engine.Config{Store: dynamo.New(rec, b.store.Table()), Queue: q, Names: b.f.Names, Clock: b.clock})
	if err != nil {
		t.Fatal(err)
	}
	return eng, rec
}

// TestTaskStartsInItsCreatingWrite: a new task is written already started
// and its roots already enqueued (the records of both with the creation's),
// so creating it updates no item; the audit trails are the same.
func TestTaskStartsInItsCreatingWrite(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	b := newBare(t, tp)
	eng, rec := b.recordingEngine(t, sqsqueue.New(b.f.Env.SQS, b.f.Provisioned.QueueURLs))
	task, err := eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 0 {
		t.Fatalf("updates while creating: %v, want none", rec.keys)
	}
	root, err := b.store.GetStep(context.Background(), task.UUID, "a")
	if err != nil {
		t.Fatal(err)
	}
	if root.State != "enqueued" || len(root.History) != 2 || root.History[1].From != "pending" || root.History[1].To != "enqueued" {
		t.Fatalf("root %s, trail %+v; want enqueued after pending", root.State, root.History)
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

// failingSends is a queue whose batch sends fail while fail is set.
type failingSends struct {
	engine.Queue
	fail atomic.Bool
}

func (f *failingSends) SendBatch(ctx context.Context, queue string, msgs []sqsqueue.Message) error {
	if f.fail.Load() {
		return errors.New("injected: send lost")
	}
	return f.Queue.SendBatch(ctx, queue, msgs)
}

// TestLostRootSendIsRecovered creates a task whose roots' messages are never
// sent (the process died after the creating write): the task's first check
// finds the roots enqueued since their creation and sends them.
func TestLostRootSendIsRecovered(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	b := newBare(t, tp)
	q := &failingSends{Queue: sqsqueue.New(b.f.Env.SQS, b.f.Provisioned.QueueURLs)}
	q.fail.Store(true)
	eng, err := engine.New(engine.Config{Store: b.store, Queue: q, Names: b.f.Names, Clock: b.clock, IndexFirstCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	task, err := eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	queue := b.f.Names.StepQueue("chain_ns")
	if msgs := b.drain(t, queue); len(msgs) != 0 {
		t.Fatalf("messages despite the failed send: %+v", msgs)
	}
	q.fail.Store(false)
	b.now.Add(int64(5 * time.Second))
	if rep, err := eng.Sweep(ctx); err != nil || rep.Examined != 0 {
		t.Fatalf("sweep before the first check: %+v %v", rep, err)
	}
	b.now.Add(int64(time.Minute))
	if rep, err := eng.Sweep(ctx); err != nil || rep.Resent != 1 {
		t.Fatalf("first check: %+v %v", rep, err)
	}
	msgs := b.drain(t, queue)
	if len(msgs) != 1 || msgs[0].StepName != "a" || msgs[0].Attempt != 1 {
		t.Fatalf("root messages after the check %+v", msgs)
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "a", 1, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	// Long after the first checks, a root still enqueued (a backlog) is not
	// resent at every check: only after EnqueueResendAfter.
	task2, err := eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain", Context: jsonOf(t, map[string]int{"n": 2})})
	if err != nil {
		t.Fatal(err)
	}
	b.drain(t, queue)
	b.now.Add(int64(5 * time.Minute))
	if rep, err := eng.Sweep(ctx); err != nil || rep.Resent != 0 {
		t.Fatalf("check of %s long after its creation: %+v %v", task2.UUID, rep, err)
	}
}

// TestLostRootEnqueueIsRecovered: a task whose root is pending with its
// dependencies met (its enqueue lost, e.g. a task created pending and
// started by a second write that died) gets the root enqueued by its check.
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

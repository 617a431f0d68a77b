package engine_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
)

// queryCounter counts the engine's DynamoDB Query calls and its GetItem
// calls on task items.
type queryCounter struct {
	*dynamodb.Client
	n         atomic.Int64
	taskReads atomic.Int64
}

func (q *queryCounter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if sk, ok := in.Key["sk"].(*types.AttributeValueMemberS); ok && sk.Value == "TASK" {
		q.taskReads.Add(1)
	}
	return q.Client.GetItem(ctx, in, opts...)
}

func (q *queryCounter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	q.n.Add(1)
	return q.Client.Query(ctx, in, opts...)
}

// TestCoveringSinkCompletesWithoutCountingSteps runs a diamond (one sink,
// every other step its ancestor) and a fork with two sinks. The diamond's
// last completion proves the task done and reads no step list; the fork
// still counts open steps when its second sink completes.
func TestCoveringSinkCompletesWithoutCountingSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		order      []string
		queries    int64
	}{
		{"diamond", `
namespace: sink_ns
name: diamond
version: "1.0.0"
steps:
  - {name: a, handler: ok}
  - {name: b, handler: ok, dependencies: [a]}
  - {name: c, handler: ok, dependencies: [a]}
  - {name: d, handler: ok, dependencies: [b, c]}
`, []string{"a", "b", "c", "d"}, 0},
		{"fork", `
namespace: sink_ns
name: fork
version: "1.0.0"
steps:
  - {name: a, handler: ok}
  - {name: b, handler: ok, dependencies: [a]}
  - {name: c, handler: ok, dependencies: [a]}
`, []string{"a", "b", "c"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp := mustParse(t, tt.yaml)
			b := newBare(t, tp)
			counter := &queryCounter{Client: b.f.Env.DynamoDB}
			eng, err := engine.New(engine.Config{Store: dynamo.New(counter, b.store.Table()),
				Queue: sqsqueue.New(b.f.Env.SQS, b.f.Provisioned.QueueURLs), Names: b.f.Names, Clock: b.clock})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			task, err := eng.CreateTask(ctx, engine.TaskRequest{Namespace: "sink_ns", Name: tp.Name})
			if err != nil {
				t.Fatal(err)
			}
			// Run the steps in the given order; steps enqueued together may
			// arrive in any order, so messages wait in a map by step name.
			queue := b.f.Names.StepQueue("sink_ns")
			waiting := map[string]protocol.StepMessage{}
			for _, name := range tt.order {
				for range 3 {
					if _, ok := waiting[name]; ok {
						break
					}
					for _, m := range b.drain(t, queue) {
						waiting[m.StepName] = m
					}
				}
				m, ok := waiting[name]
				if !ok {
					t.Fatalf("step %s was not enqueued", name)
				}
				delete(waiting, name)
				if _, err := claimStep(ctx, b.store, task.UUID, m.StepName, m.Attempt, time.Minute, "w", "", b.clock()); err != nil {
					t.Fatal(err)
				}
				if err := eng.HandleResult(ctx, success(m, `{}`)); err != nil {
					t.Fatal(err)
				}
			}
			final, err := b.store.GetTask(ctx, task.UUID)
			if err != nil {
				t.Fatal(err)
			}
			if final.State != "complete" {
				t.Fatalf("task %s, want complete", final.State)
			}
			if got := counter.n.Load(); got != tt.queries {
				t.Fatalf("%d Query calls, want %d", got, tt.queries)
			}
			// Results read task and step in one BatchGetItem; the covering
			// sink finishes the task with the task it read, a sink that
			// counts open steps reads the task again first.
			if got, want := counter.taskReads.Load(), tt.queries; got != want {
				t.Fatalf("%d task GetItem calls, want %d", got, want)
			}
		})
	}
}

// TestManuallyCompletedSinkDoesNotFinishTask completes a diamond's sink by
// hand while its ancestors still run: the task stays in process, because a
// sink completed by an operator proves nothing about the other steps.
func TestManuallyCompletedSinkDoesNotFinishTask(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: sink_ns
name: manual
version: "1.0.0"
steps:
  - {name: a, handler: ok}
  - {name: b, handler: ok, dependencies: [a]}
  - {name: d, handler: ok, dependencies: [b]}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "sink_ns", Name: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.store.GetStep(ctx, task.UUID, "d")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.ApplyStepAction(ctx, task.UUID, d.UUID, engine.StepAction{Type: engine.ActionCompleteManually,
		Reason: "done elsewhere", By: "ops", Result: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := b.store.GetTask(ctx, task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "steps_in_process" {
		t.Fatalf("task %s after completing its sink by hand while a still runs; want steps_in_process", got.State)
	}
}

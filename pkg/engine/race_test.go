package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// bare is an engine with no consumers: tests drive it by hand.
type bare struct {
	f     *localtest.Fixture
	store *dynamo.Store
	eng   *engine.Engine
	now   atomic.Int64 // unix nanos
}

func newBare(t *testing.T, tp *template.Template) *bare {
	t.Helper()
	return newBareWith(t, tp, nil)
}

func newBareWith(t *testing.T, tp *template.Template, adjust func(*engine.Config)) *bare {
	t.Helper()
	f := localtest.New(t, tp.Namespace)
	b := &bare{f: f, store: dynamo.New(f.Env.DynamoDB, f.Names.StateTable())}
	b.now.Store(time.Now().UnixNano())
	cfg := engine.Config{Store: b.store, Queue: sqsqueue.New(f.Env.SQS, f.Provisioned.QueueURLs), Names: f.Names,
		Clock: func() time.Time { return time.Unix(0, b.now.Load()) }, IndexFirstCheck: true}
	if adjust != nil {
		adjust(&cfg)
	}
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.RegisterTemplate(context.Background(), tp); err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	return b
}

func (b *bare) clock() time.Time { return time.Unix(0, b.now.Load()) }

// drain receives every message currently on a queue and deletes it.
func (b *bare) drain(t *testing.T, queue string) []protocol.StepMessage {
	t.Helper()
	url := b.f.QueueURL(queue)
	var out []protocol.StepMessage
	for {
		res, err := b.f.Env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var sm protocol.StepMessage
			if err := json.Unmarshal([]byte(*m.Body), &sm); err != nil {
				t.Fatal(err)
			}
			out = append(out, sm)
			if _, err := b.f.Env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func success(m protocol.StepMessage, result string) *protocol.ResultMessage {
	return &protocol.ResultMessage{V: protocol.Version, TaskUUID: m.TaskUUID, StepUUID: m.StepUUID, StepName: m.StepName,
		Attempt: m.Attempt, Status: protocol.StatusSuccess, Result: json.RawMessage(result), FinishedAt: time.Now()}
}

// TestConcurrentParentsEnqueueChildOnce completes two parents at the same
// moment, each result delivered several times, and checks that the child
// runs once: every delivery that saw both parents complete may send its
// message, and exactly one of those messages' claims succeeds.
func TestConcurrentParentsEnqueueChildOnce(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		tp := mustParse(t, `
namespace: race_ns
name: join
version: "1.0.0"
steps:
  - {name: a, handler: add}
  - {name: b, handler: add}
  - {name: c, handler: add, dependencies: [a, b]}
`)
		b := newBare(t, tp)
		ctx := context.Background()
		task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "race_ns", Name: "join", Context: jsonOf(t, map[string]int{"round": round})})
		if err != nil {
			t.Fatal(err)
		}
		roots := b.drain(t, b.f.Names.StepQueue("race_ns"))
		if len(roots) != 2 {
			t.Fatalf("want 2 root messages, got %d", len(roots))
		}
		for _, m := range roots {
			if _, err := claimStep(ctx, b.store, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", m.CorrelationID, b.clock()); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 8 {
			m := roots[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := b.eng.HandleResult(ctx, success(m, `{"n":1}`)); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		msgs := b.drain(t, b.f.Names.StepQueue("race_ns"))
		if len(msgs) == 0 {
			t.Fatalf("round %d: no message for c", round)
		}
		claims := 0
		for _, m := range msgs {
			if m.StepName != "c" || m.FromState != protocol.FromPending || len(m.Parents) != 2 {
				t.Fatalf("round %d: message %+v, want c's, from pending, with both parents' results", round, m)
			}
			// Every delivery that saw both parents complete sent one; the
			// claim lets exactly one run.
			_, err := b.store.ClaimPendingStep(ctx, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", m.CorrelationID, m.EnqueuedAt, b.clock())
			switch {
			case err == nil:
				claims++
			case !errors.Is(err, workflow.ErrConflict):
				t.Fatal(err)
			}
		}
		c, err := b.store.GetStep(ctx, task.UUID, "c")
		if err != nil {
			t.Fatal(err)
		}
		enqueues := 0
		for _, tr := range c.History {
			if tr.Event == "enqueue" {
				enqueues++
			}
		}
		if claims != 1 || c.State != "in_progress" || enqueues != 1 {
			t.Fatalf("round %d: %d claims; c is %s with %d enqueue transitions: %+v", round, claims, c.State, enqueues, c.History)
		}
	}
}

// TestAbandonedStepIsRetriedAfterTimeout simulates a worker that claimed a
// step and died: the sweeper fails the attempt as retryable once the
// deadline passes, and the step runs again as attempt 2.
func TestAbandonedStepIsRetriedAfterTimeout(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: crash_ns
name: crash
version: "1.0.0"
steps:
  - {name: s, handler: add, timeout_seconds: 5, retry: {max_attempts: 3, backoff_base_ms: 100, max_backoff_ms: 1000}}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "crash_ns", Name: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := b.drain(t, b.f.Names.StepQueue("crash_ns"))
	if len(msgs) != 1 {
		t.Fatalf("want 1 message, got %d", len(msgs))
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "s", 1, 5*time.Second, "doomed-worker", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	// Before the deadline the sweeper leaves it alone.
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.TimedOut != 0 {
		t.Fatalf("early sweep: %+v %v", rep, err)
	}
	b.now.Add(int64(5*time.Second + dynamo.ClaimGrace + time.Second))
	rep, err := b.eng.Sweep(ctx)
	if err != nil || rep.TimedOut != 1 {
		t.Fatalf("sweep after deadline: %+v %v", rep, err)
	}
	s, err := b.store.GetStep(ctx, task.UUID, "s")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != "waiting_for_retry" || s.Attempts != 1 || s.Error == nil || s.Error.ErrorType != "timeout" {
		t.Fatalf("after timeout: %s attempts=%d err=%+v", s.State, s.Attempts, s.Error)
	}
	// The retry becomes due; the sweeper (standing in for the delayed
	// orchestration message) enqueues attempt 2.
	b.now.Add(int64(2 * time.Minute))
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.Retried != 1 {
		t.Fatalf("retry sweep: %+v %v", rep, err)
	}
	msgs = b.drain(t, b.f.Names.StepQueue("crash_ns"))
	if len(msgs) != 1 || msgs[0].Attempt != 2 {
		t.Fatalf("want one attempt-2 message, got %+v", msgs)
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "s", 2, 5*time.Second, "healthy-worker", "", b.clock()); err != nil {
		t.Fatalf("attempt 2 claim: %v", err)
	}
	if err := b.eng.HandleResult(ctx, success(msgs[0], `{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	final, err := b.store.GetTask(ctx, task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != "complete" {
		t.Fatalf("task %s", final.State)
	}
}

// TestDuplicateResultIsIdempotent redelivers a result after it was applied.
func TestDuplicateResultIsIdempotent(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := b.drain(t, b.f.Names.StepQueue("chain_ns"))
	if _, err := claimStep(ctx, b.store, task.UUID, "a", 1, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := b.eng.HandleResult(ctx, success(msgs[0], `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	next := b.drain(t, b.f.Names.StepQueue("chain_ns"))
	// Redeliveries may re-send b and c (harmless: claims are guarded) but
	// each child is enqueued once in state.
	names := map[string]bool{}
	for _, m := range next {
		names[m.StepName] = true
		if m.Attempt != 1 {
			t.Fatalf("unexpected attempt %d", m.Attempt)
		}
	}
	if !names["b"] || !names["c"] || len(names) != 2 {
		t.Fatalf("children messages %+v", next)
	}
	a, err := b.store.GetStep(ctx, task.UUID, "a")
	if err != nil {
		t.Fatal(err)
	}
	completes := 0
	for _, tr := range a.History {
		if tr.Event == "complete" {
			completes++
		}
	}
	if completes != 1 {
		t.Fatalf("a completed %d times in its audit trail, want 1", completes)
	}
}

// TestStalenessLooksAtStepActivity: steps progress without touching the
// task item, so a task whose own record is old but whose steps moved
// recently is not stale; once nothing moves for the threshold, it is.
func TestStalenessLooksAtStepActivity(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: stale_ns
name: slow
version: "1.0.0"
lifecycle: {max_steps_in_process_minutes: 1}
steps:
  - {name: s, handler: add, timeout_seconds: 3600}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "stale_ns", Name: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	b.now.Add(int64(50 * time.Second))
	if _, err := claimStep(ctx, b.store, task.UUID, "s", 1, time.Hour, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	b.now.Add(int64(30 * time.Second)) // the task record is 80 s old, the step moved 30 s ago
	rep, err := b.eng.Sweep(ctx)
	if err != nil || rep.Stale != 0 {
		t.Fatalf("sweep with recent step activity: %+v %v", rep, err)
	}
	b.now.Add(int64(2 * time.Minute)) // nothing moves for longer than the threshold
	rep, err = b.eng.Sweep(ctx)
	if err != nil || rep.Stale != 1 {
		t.Fatalf("sweep after the threshold: %+v %v", rep, err)
	}
	got, _ := b.store.GetTask(ctx, task.UUID)
	entries, _ := b.store.DLQEntriesForTask(ctx, task.UUID)
	if got.State != "error" || len(entries) != 1 || entries[0].Reason != "staleness_timeout" {
		t.Fatalf("task %s, dlq %+v", got.State, entries)
	}
}

// TestDeadLetteredResultRedrivesTask applies a step's completion but loses
// the follow-up (its result message dead-lettered after the write): the
// sweep that turns the message into a DLQ entry also re-drives the task, so
// the dependent step is enqueued instead of waiting for the staleness sweep.
func TestDeadLetteredResultRedrivesTask(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: dead_ns
name: dead
version: "1.0.0"
steps:
  - {name: a, handler: ok}
  - {name: b, handler: ok, dependencies: [a]}
`)
	b := newBareWith(t, tp, func(c *engine.Config) { c.DeadLetters = c.Queue.(engine.DeadLetters) })
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "dead_ns", Name: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := b.drain(t, b.f.Names.StepQueue("dead_ns"))
	if len(msgs) != 1 || msgs[0].StepName != "a" {
		t.Fatalf("want a enqueued, got %+v", msgs)
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "a", 1, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	// The completion is written; the invocation then dies every time, and
	// SQS moves the result message to the dead-letter queue.
	if _, err := b.store.TransitionStep(ctx, task.UUID, "a", dynamo.StepChange{From: []statemachine.StepState{statemachine.StepInProgress},
		Attempts: 1, To: statemachine.StepComplete, At: b.clock(), Result: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(success(msgs[0], `{}`))
	if err != nil {
		t.Fatal(err)
	}
	dlq := b.f.QueueURL(b.f.Names.ResultsQueue() + "-dlq")
	if _, err := b.f.Env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	rep, err := b.eng.Sweep(ctx)
	if err != nil || rep.DeadLetters != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	msgs = b.drain(t, b.f.Names.StepQueue("dead_ns"))
	if len(msgs) != 1 || msgs[0].StepName != "b" {
		t.Fatalf("after the sweep want b enqueued, got %+v", msgs)
	}
}

// TestInvalidResultAppliedInProcessFailsStep hands the engine a result that
// breaks the protocol's limits directly, as an in-process worker does (no
// results queue in between): the attempt fails permanently with the reason,
// as it would through the queue.
func TestInvalidResultAppliedInProcessFailsStep(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: deep_ns
name: deep
version: "1.0.0"
steps:
  - {name: a, handler: ok, retry: {max_attempts: 3}}
`)
	b := newBare(t, tp)
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "deep_ns", Name: "deep"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := b.drain(t, b.f.Names.StepQueue("deep_ns"))
	if len(msgs) != 1 {
		t.Fatalf("want a enqueued, got %+v", msgs)
	}
	if _, err := claimStep(ctx, b.store, task.UUID, "a", 1, time.Minute, "w", "", b.clock()); err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat(`{"x":`, protocol.MaxJSONDepth+6) + "1" + strings.Repeat("}", protocol.MaxJSONDepth+6)
	if err := b.eng.HandleResult(ctx, success(msgs[0], deep)); err != nil {
		t.Fatal(err)
	}
	s, err := b.store.GetStep(ctx, task.UUID, "a")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != "error" || s.Error == nil || s.Error.Retryable || !strings.Contains(s.Error.Message, "deep") {
		t.Fatalf("step %s, error %+v; want a permanent failure naming the depth", s.State, s.Error)
	}
}

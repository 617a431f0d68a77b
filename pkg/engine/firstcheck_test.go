package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
)

// orchestrationTap records the engine's sends to the orchestration queue
// and can fail them.
type orchestrationTap struct {
	engine.Queue
	queue string
	fail  bool
	// published reports whether a task item exists; a check sent for a
	// task already published is counted in early.
	published func(taskUUID string) bool
	mu        sync.Mutex
	sent      []sqsqueue.Message
	late      int
}

func (q *orchestrationTap) Send(ctx context.Context, queue string, m sqsqueue.Message) error {
	if queue == q.queue {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.fail {
			return errors.New("injected: orchestration send failed")
		}
		var om protocol.OrchestrationMessage
		if json.Unmarshal(m.Body, &om) == nil && om.Kind == protocol.KindCheckTask && q.published(om.TaskUUID) {
			q.late++
		}
		q.sent = append(q.sent, m)
	}
	return q.Queue.Send(ctx, queue, m)
}

// firstCheckRig is a bare engine that sends first checks as messages.
func firstCheckRig(t *testing.T, fail bool) (*bare, *orchestrationTap, *updateRecorder) {
	t.Helper()
	var tap *orchestrationTap
	b := newBareWith(t, mustParse(t, chainYAML), func(c *engine.Config) {
		c.IndexFirstCheck = false
		tap = &orchestrationTap{Queue: c.Queue, fail: fail}
		c.Queue = tap
	})
	tap.queue = b.f.Names.OrchestrationQueue()
	tap.published = func(taskUUID string) bool { return b.taskItem(t, taskUUID) != nil }
	eng, rec := b.recordingEngine(t, tap)
	b.eng = eng
	return b, tap, rec
}

func (b *bare) taskItem(t *testing.T, taskUUID string) map[string]types.AttributeValue {
	t.Helper()
	out, err := b.f.Env.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(b.f.Names.StateTable()), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "T#" + taskUUID}, "sk": &types.AttributeValueMemberS{Value: "TASK"}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// TestFirstCheckTravelsAsAMessage: a new task's first check is a delayed
// check_task message, so its item has no sweep entry. When it arrives at a
// finished task it writes nothing; at a running task whose root message was
// lost it resends the message and puts the task's next check in the sweep
// index; for a task that was never published it does nothing.
func TestFirstCheckTravelsAsAMessage(t *testing.T) {
	t.Parallel()
	b, tap, rec := firstCheckRig(t, false)
	ctx := context.Background()
	queue := b.f.Names.StepQueue("chain_ns")
	checkOf := func(t *testing.T, taskUUID string) *protocol.OrchestrationMessage {
		t.Helper()
		tap.mu.Lock()
		defer tap.mu.Unlock()
		for _, m := range tap.sent {
			var om protocol.OrchestrationMessage
			if err := json.Unmarshal(m.Body, &om); err != nil {
				t.Fatal(err)
			}
			if om.Kind == protocol.KindCheckTask && om.TaskUUID == taskUUID {
				if m.Delay < 30*time.Second || m.Delay > time.Minute {
					t.Fatalf("check of %s delayed %s, want the first check's (30 s to 1 min)", taskUUID, m.Delay)
				}
				if err := om.Validate(); err != nil {
					t.Fatal(err)
				}
				return &om
			}
		}
		t.Fatalf("no check_task message for %s in %d sends", taskUUID, len(tap.sent))
		return nil
	}
	noSweepEntry := func(t *testing.T, taskUUID string) {
		t.Helper()
		item := b.taskItem(t, taskUUID)
		if _, ok := item["sweep_shard"]; ok {
			t.Fatalf("task %s is in the sweep index: %v", taskUUID, item["sweep_at"])
		}
	}

	// A task that runs to completion before its check.
	done, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain", Context: json.RawMessage(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	noSweepEntry(t, done.UUID)
	check := checkOf(t, done.UUID)
	if tap.late != 0 {
		t.Fatal("the first check was sent after the task was published")
	}
	for range 3 {
		for _, m := range b.drain(t, queue) {
			if _, err := claimStep(ctx, b.store, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", "", b.clock()); err != nil {
				t.Fatal(err)
			}
			if err := b.eng.HandleResult(ctx, success(m, `{"n":1}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if tk, err := b.store.GetTask(ctx, done.UUID); err != nil || tk.State != "complete" {
		t.Fatalf("task %+v %v", tk, err)
	}
	noSweepEntry(t, done.UUID)
	b.now.Add(int64(time.Minute))
	rec.keys = nil
	if err := b.eng.HandleOrchestration(ctx, check); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 0 {
		t.Fatalf("the check of a finished task wrote %v", rec.keys)
	}

	// A task whose root message is lost.
	lost, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain", Context: json.RawMessage(`{"n":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.drain(t, queue)
	noSweepEntry(t, lost.UUID)
	b.now.Add(int64(time.Minute))
	if err := b.eng.HandleOrchestration(ctx, checkOf(t, lost.UUID)); err != nil {
		t.Fatal(err)
	}
	if got := b.drain(t, queue); len(got) != 1 || got[0].StepName != "a" || got[0].TaskUUID != lost.UUID {
		t.Fatalf("messages after the check: %+v", got)
	}
	if item := b.taskItem(t, lost.UUID); item["sweep_shard"] == nil || item["sweep_at"] == nil {
		t.Fatal("a running task's check did not schedule its next check in the sweep index")
	}

	// A check for a task that was never published.
	if err := b.eng.HandleOrchestration(ctx, &protocol.OrchestrationMessage{V: protocol.Version, Kind: protocol.KindCheckTask,
		TaskUUID: "01a21cb7-0000-7000-8000-000000000000"}); err != nil {
		t.Fatalf("check of a missing task: %v", err)
	}
}

// TestFirstCheckFallsBackToTheIndex: when the check_task message cannot be
// sent, the task is created anyway with its first check in the sweep index.
func TestFirstCheckFallsBackToTheIndex(t *testing.T) {
	t.Parallel()
	b, _, _ := firstCheckRig(t, true)
	task, err := b.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	if item := b.taskItem(t, task.UUID); item["sweep_shard"] == nil || item["sweep_at"] == nil {
		t.Fatal("a task whose check message was not sent has no sweep entry")
	}
}

// TestDeadLetteredFirstCheckLeavesTheTaskChecked: a task's first check
// (its only watcher while it has no sweep entry) is dead-lettered after its
// invocations kept failing. The sweep that turns it into a DLQ entry puts
// the task's next check in the sweep index, and that check sends the task's
// lost root message again.
func TestDeadLetteredFirstCheckLeavesTheTaskChecked(t *testing.T) {
	t.Parallel()
	b := newBareWith(t, mustParse(t, chainYAML), func(c *engine.Config) {
		c.IndexFirstCheck = false
		c.DeadLetters = c.Queue.(engine.DeadLetters)
	})
	ctx := context.Background()
	task, err := b.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "chain_ns", Name: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	if item := b.taskItem(t, task.UUID); item["sweep_shard"] != nil {
		t.Fatal("the task has a sweep entry; its first check should be a message")
	}
	b.drain(t, b.f.Names.StepQueue("chain_ns")) // the root's message is lost
	body, err := json.Marshal(protocol.OrchestrationMessage{V: protocol.Version, Kind: protocol.KindCheckTask, TaskUUID: task.UUID})
	if err != nil {
		t.Fatal(err)
	}
	dlq := b.f.QueueURL(b.f.Names.OrchestrationQueue() + "-dlq")
	if _, err := b.f.Env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.eng.Sweep(ctx); err != nil || rep.DeadLetters != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	if item := b.taskItem(t, task.UUID); item["sweep_shard"] == nil {
		t.Fatal("after its dead-lettered first check the task has no check in the sweep index")
	}
	b.now.Add(int64(2 * time.Minute))
	if _, err := b.eng.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if again := b.drain(t, b.f.Names.StepQueue("chain_ns")); len(again) != 1 || again[0].StepName != "a" {
		t.Fatalf("the check from the index did not send the lost root again: %+v", again)
	}
}

package dynamo_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// rawStore is a store with the client and table behind it, for tests that
// look at items as stored.
type rawStore struct {
	*dynamo.Store
	db    *dynamodb.Client
	table string
}

func newRawStore(t *testing.T) rawStore {
	t.Helper()
	f := localtest.New(t)
	return rawStore{dynamo.New(f.Env.DynamoDB, f.Names.StateTable()), f.Env.DynamoDB, f.Names.StateTable()}
}

func (r rawStore) item(t *testing.T, task, step string) map[string]types.AttributeValue {
	t.Helper()
	out, err := r.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(r.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": sAttr("T#" + task), "sk": sAttr("S#" + step)}})
	require.NoError(t, err)
	require.NotNil(t, out.Item)
	return out.Item
}

func sAttr(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }
func nAttr(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
func mAttr(m map[string]types.AttributeValue) *types.AttributeValueMemberM {
	return &types.AttributeValueMemberM{Value: m}
}
func rfc(t time.Time) *types.AttributeValueMemberS { return sAttr(t.UTC().Format(time.RFC3339Nano)) }

// compactName and wireName spell record attribute names as the engine and
// the workers write them (docs/data-model.md).
func compactName(writeAt time.Time, seq, idx int) string {
	return fmt.Sprintf("h:%016x%04x%04x%x", writeAt.UnixNano(), 0xbeef, seq, idx)
}

func wireName(writeAt time.Time, seq, idx int) string {
	return fmt.Sprintf("h_%s_%08x%08x_%02d", writeAt.UTC().Format("20060102T150405.000000000"), 0xfeed, seq, idx)
}

// TestStepItemLeavesOutWhatItsRecordsHold runs a step through its life and
// checks that its item holds neither the task's UUID nor the times and the
// correlation IDs its key and records already give, and that a read still
// returns them.
func TestStepItemLeavesOutWhatItsRecordsHold(t *testing.T) {
	t.Parallel()
	s := newRawStore(t)
	worker := newStep("work_001")
	worker.TemplateStep, worker.Type = "work", "batch_worker"
	task := createTask(t, s.Store, newStep("a"), worker)
	enqueuedAt, claimedAt, doneAt := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	corr := task.CorrelationID
	// Record times differ from the write times, as when the engine stamps
	// a record with the worker's clock: the step's times are the writes'.
	_, err := s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepPending}, Attempts: 0, To: statemachine.StepEnqueued, At: enqueuedAt,
		Transitions: []workflow.Transition{{From: "pending", To: "enqueued", Event: "enqueue", Attempt: 1, At: t0, CorrelationID: corr}},
	})
	require.NoError(t, err)
	_, err = s.ClaimStep(t.Context(), task.UUID, "a", 1, time.Minute, "worker-1", corr, claimedAt)
	require.NoError(t, err)
	done, err := s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: 1, To: statemachine.StepComplete, At: doneAt,
		Result: json.RawMessage(`{"ok":true}`),
		Transitions: []workflow.Transition{
			{From: "in_progress", To: "enqueued_for_orchestration", Event: "enqueue_for_orchestration", Attempt: 1, At: t0, CorrelationID: corr},
			{From: "enqueued_for_orchestration", To: "complete", Event: "complete", Attempt: 1, At: t0, CorrelationID: corr},
		},
	})
	require.NoError(t, err)

	item := s.item(t, task.UUID, "a")
	for _, a := range []string{"task_uuid", "created_at", "enqueued_at", "completed_at", "stype", "tstep"} {
		require.NotContains(t, item, a)
	}
	for _, a := range []string{"updated_at", "claimed_at", "last_attempted_at", "worker_id"} {
		require.Contains(t, item, a, "the claim writes it and code conditions on it")
	}
	for name, v := range item {
		if strings.HasPrefix(name, "h:") {
			require.NotContains(t, v.(*types.AttributeValueMemberM).Value, "c", "compact step record %s", name)
		}
	}

	for _, got := range []*workflow.Step{done, getStep(t, s.Store, task.UUID, "a")} {
		require.Equal(t, task.UUID, got.TaskUUID)
		require.Equal(t, "standard", got.Type)
		require.Equal(t, "a", got.TemplateStep)
		require.Equal(t, t0, got.CreatedAt)
		require.Equal(t, &enqueuedAt, got.EnqueuedAt)
		require.Equal(t, &claimedAt, got.ClaimedAt)
		require.Equal(t, &doneAt, got.CompletedAt)
		require.Equal(t, doneAt, got.UpdatedAt)
		require.Equal(t, []string{"create", "enqueue", "start", "enqueue_for_orchestration", "complete"}, historyEvents(got.History))
		require.Equal(t, corr, got.History[2].CorrelationID, "the claim's wire-form record keeps its correlation_id")
		got.FillCorrelation(corr)
		for _, tr := range got.History {
			require.Equal(t, corr, tr.CorrelationID)
		}
	}

	// Types and template steps other than the defaults are stored.
	w := s.item(t, task.UUID, "work_001")
	require.Equal(t, sAttr("work"), w["tstep"])
	require.Equal(t, sAttr("batch_worker"), w["stype"])
	got := getStep(t, s.Store, task.UUID, "work_001")
	require.Equal(t, "work", got.TemplateStep)
	require.Equal(t, "batch_worker", got.Type)
}

// oldStepItem is a completed step as the previous version wrote it: every
// attribute spelled out, compact records with full names and the
// correlation ID, the worker's claim in the wire form.
func oldStepItem(taskUUID string, created, enqueued, claimed, done time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": sAttr("T#" + taskUUID), "sk": sAttr("S#fetch_0003"), "kind": sAttr("step"),
		"task_uuid": sAttr(taskUUID), "step_uuid": sAttr("0193aa00-0000-7000-8000-000000000003"),
		"name": sAttr("fetch_0003"), "tstep": sAttr("fetch"), "handler": sAttr("orders.fetch"),
		"stype": sAttr("batch_worker"), "st": sAttr("complete"), "attempts": nAttr(1), "max_attempts": nAttr(3),
		"retryable": &types.AttributeValueMemberBOOL{Value: true}, "timeout_s": nAttr(20),
		"deps":       &types.AttributeValueMemberL{Value: []types.AttributeValue{sAttr("split")}},
		"done":       &types.AttributeValueMemberSS{Value: []string{"split"}},
		"created_by": sAttr("split"), "created_by_attempt": nAttr(1), "inputs": sAttr(`{"cursor":3}`),
		"result": sAttr(`{"ok":true}`), "worker_id": sAttr("worker-7"),
		"created_at": rfc(created), "updated_at": rfc(done), "enqueued_at": rfc(enqueued),
		"claimed_at": rfc(claimed), "last_attempted_at": rfc(claimed), "completed_at": rfc(done),
		compactName(created, 1, 0): mAttr(map[string]types.AttributeValue{
			"t": sAttr("pending"), "e": sAttr("create"), "a": nAttr(created.UnixNano()), "p": sAttr("engine"), "c": sAttr("corr-old")}),
		compactName(enqueued, 2, 0): mAttr(map[string]types.AttributeValue{
			"f": sAttr("pending"), "t": sAttr("enqueued"), "e": sAttr("enqueue"), "n": nAttr(1),
			"a": nAttr(enqueued.UnixNano()), "p": sAttr("engine"), "c": sAttr("corr-old")}),
		wireName(claimed, 3, 0): mAttr(map[string]types.AttributeValue{
			"from": sAttr("enqueued"), "to": sAttr("in_progress"), "event": sAttr("start"), "attempt": nAttr(1),
			"at": rfc(claimed), "processor": sAttr("worker-7"), "correlation_id": sAttr("corr-old")}),
		compactName(done, 4, 0): mAttr(map[string]types.AttributeValue{
			"f": sAttr("in_progress"), "t": sAttr("enqueued_for_orchestration"), "e": sAttr("enqueue_for_orchestration"),
			"n": nAttr(1), "a": nAttr(done.Add(-time.Millisecond).UnixNano()), "p": sAttr("results"), "c": sAttr("corr-old")}),
		compactName(done, 4, 1): mAttr(map[string]types.AttributeValue{
			"f": sAttr("enqueued_for_orchestration"), "t": sAttr("complete"), "e": sAttr("complete"),
			"n": nAttr(1), "a": nAttr(done.Add(-time.Millisecond).UnixNano()), "p": sAttr("results"), "c": sAttr("corr-old"),
			"r": sAttr("done")}),
	}
}

// TestOldFormatStepItemDecodes reads a step item written by the previous
// version and gets back exactly what that version read.
func TestOldFormatStepItemDecodes(t *testing.T) {
	t.Parallel()
	s := newRawStore(t)
	taskUUID := "0193aa00-0000-7000-8000-0000000000aa"
	created, enqueued, claimed, done := t0, t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	_, err := s.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: oldStepItem(taskUUID, created, enqueued, claimed, done)})
	require.NoError(t, err)

	got := getStep(t, s.Store, taskUUID, "fetch_0003")
	require.Equal(t, &workflow.Step{
		TaskUUID: taskUUID, UUID: "0193aa00-0000-7000-8000-000000000003", Name: "fetch_0003", TemplateStep: "fetch",
		Handler: "orders.fetch", Type: "batch_worker", State: statemachine.StepComplete, Attempts: 1, MaxAttempts: 3,
		Retryable: true, TimeoutSecs: 20, Dependencies: []string{"split"}, Satisfied: []string{"split"},
		CreatedBy: "split", CreatedByAttempt: 1, Inputs: json.RawMessage(`{"cursor":3}`), Result: json.RawMessage(`{"ok":true}`),
		WorkerID: "worker-7", CreatedAt: created, UpdatedAt: done, EnqueuedAt: &enqueued, ClaimedAt: &claimed, CompletedAt: &done,
		History: []workflow.Transition{
			{To: "pending", Event: "create", At: created, Processor: "engine", CorrelationID: "corr-old"},
			{From: "pending", To: "enqueued", Event: "enqueue", Attempt: 1, At: enqueued, Processor: "engine", CorrelationID: "corr-old"},
			{From: "enqueued", To: "in_progress", Event: "start", Attempt: 1, At: claimed, Processor: "worker-7", CorrelationID: "corr-old"},
			{From: "in_progress", To: "enqueued_for_orchestration", Event: "enqueue_for_orchestration", Attempt: 1,
				At: done.Add(-time.Millisecond), Processor: "results", CorrelationID: "corr-old"},
			{From: "enqueued_for_orchestration", To: "complete", Event: "complete", Attempt: 1,
				At: done.Add(-time.Millisecond), Processor: "results", CorrelationID: "corr-old", Reason: "done"},
		},
	}, got)
}

// TestOldFormatStepItemMovesOn continues an item the previous version wrote
// (its enqueued_at an earlier enqueue's): the times read are the latest.
func TestOldFormatStepItemMovesOn(t *testing.T) {
	t.Parallel()
	s := newRawStore(t)
	taskUUID := "0193aa00-0000-7000-8000-0000000000ab"
	created, enqueued, claimed, done := t0, t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	item := oldStepItem(taskUUID, created, enqueued, claimed, done)
	item["st"] = sAttr("error")
	delete(item, "completed_at")
	_, err := s.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	require.NoError(t, err)

	again := t0.Add(time.Minute)
	got, err := s.TransitionStep(t.Context(), taskUUID, "fetch_0003", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepError}, Attempts: 1, To: statemachine.StepEnqueued, At: again,
		Transitions: []workflow.Transition{
			{From: "error", To: "pending", Event: "retry", Attempt: 2, At: again},
			{From: "pending", To: "enqueued", Event: "enqueue", Attempt: 2, At: again},
		},
	})
	require.NoError(t, err)
	require.Equal(t, &again, got.EnqueuedAt)
	require.Equal(t, created, got.CreatedAt)
	require.Equal(t, taskUUID, got.TaskUUID)
}

// TestTaskRecordsLeaveOutCorrelation checks that a task's compact records do
// not repeat its correlation ID as stored, and come back with it.
func TestTaskRecordsLeaveOutCorrelation(t *testing.T) {
	t.Parallel()
	s := newRawStore(t)
	task := newTask("suite", t0)
	task.State = statemachine.TaskPending
	task.History = []workflow.Transition{{To: "pending", Event: "create", At: t0, Processor: "engine", CorrelationID: task.CorrelationID}}
	require.NoError(t, s.CreateTask(t.Context(), task, nil))
	_, err := s.TransitionTask(t.Context(), task.UUID, dynamo.TaskChange{
		From: statemachine.TaskPending, To: statemachine.TaskInitializing, At: t0.Add(time.Second),
		Transitions: []workflow.Transition{{From: "pending", To: "initializing", Event: "start", At: t0.Add(time.Second), CorrelationID: task.CorrelationID}},
	})
	require.NoError(t, err)

	out, err := s.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": sAttr("T#" + task.UUID), "sk": sAttr("TASK")}})
	require.NoError(t, err)
	records := 0
	for name, v := range out.Item {
		if strings.HasPrefix(name, "h:") {
			records++
			require.NotContains(t, v.(*types.AttributeValueMemberM).Value, "c", "compact task record %s", name)
		}
	}
	require.Equal(t, 2, records)

	got, err := s.GetTask(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, got.History, 2)
	for _, tr := range got.History {
		require.Equal(t, task.CorrelationID, tr.CorrelationID, "record %s", tr.Event)
	}
}

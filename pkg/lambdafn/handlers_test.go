package lambdafn_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

const namespace = "fn_ns"

const pairYAML = `
namespace: fn_ns
name: pair
version: "1.0.0"
steps:
  - {name: a, handler: add}
  - {name: b, handler: add}
`

// Message ids of the records in testdata/orchestration-event.json.
const (
	orchNotJSON      = "0a1b2c3d-0001-4e5f-8a9b-000000000001"
	orchUnknownKind  = "0a1b2c3d-0002-4e5f-8a9b-000000000002"
	orchWrongVersion = "0a1b2c3d-0003-4e5f-8a9b-000000000003"
	orchStart        = "0a1b2c3d-0004-4e5f-8a9b-000000000004"
	orchGhost        = "0a1b2c3d-0005-4e5f-8a9b-000000000005" // a task whose template was never registered
	orchMissingTask  = "0a1b2c3d-0006-4e5f-8a9b-000000000006"
)

// harness is an engine on its own table and queues, with a frozen clock.
type harness struct {
	f     *localtest.Fixture
	store *dynamo.Store
	eng   *engine.Engine
	tpl   *template.Template
	now   time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tpl, err := template.Parse([]byte(pairYAML), "pair.yaml")
	require.NoError(t, err)
	f := localtest.New(t, namespace)
	h := &harness{f: f, store: dynamo.New(f.Env.DynamoDB, f.Names.StateTable()), tpl: tpl,
		now: time.Now().UTC().Truncate(time.Millisecond)}
	h.eng, err = engine.New(engine.Config{Store: h.store, Queue: sqsqueue.New(f.Env.SQS, f.Provisioned.QueueURLs),
		Names: f.Names, Processor: "lambdafn-test", Clock: func() time.Time { return h.now }})
	require.NoError(t, err)
	require.NoError(t, h.eng.RegisterTemplate(t.Context(), tpl))
	return h
}

// pendingTask stores a task of the pair template left pending (as if the
// intake crashed before starting it), under the given template version.
func (h *harness) pendingTask(t *testing.T, version string, created time.Time) *workflow.Task {
	t.Helper()
	task := &workflow.Task{
		UUID: uuid.NewString(), Namespace: namespace, Name: h.tpl.Name, Version: version,
		State: statemachine.TaskPending, Rev: 1, Context: json.RawMessage(`{"x":1}`), CorrelationID: uuid.NewString(),
		CreatedAt: created, UpdatedAt: created,
		History: []workflow.Transition{{To: string(statemachine.TaskPending), Event: "create", At: created}},
	}
	var steps []*workflow.Step
	for _, n := range h.tpl.InitialSteps() {
		ts, _ := h.tpl.Step(n)
		steps = append(steps, &workflow.Step{
			UUID: uuid.NewString(), Name: n, TemplateStep: n, Handler: ts.Handler, Type: string(ts.Type),
			State: statemachine.StepPending, MaxAttempts: ts.Retry.MaxAttempts, Retryable: ts.Retry.Retryable,
			Dependencies: ts.Dependencies, CreatedAt: created,
			History: []workflow.Transition{{To: string(statemachine.StepPending), Event: "create", At: created}},
		})
	}

	require.NoError(t, h.store.CreateTask(t.Context(), task, steps))
	return task
}

// drainSteps receives and deletes every message on the namespace's step queue.
func (h *harness) drainSteps(t *testing.T) []protocol.StepMessage {
	t.Helper()
	url := h.f.QueueURL(h.f.Names.StepQueue(namespace))
	var out []protocol.StepMessage
	for {
		// WaitTimeSeconds 0 is never sent, and the queues long-poll 20 s by default.
		res, err := h.f.Env.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var sm protocol.StepMessage
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &sm))
			out = append(out, sm)
			_, err := h.f.Env.SQS.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
}

// fixture reads a testdata event and fills its __PLACEHOLDERS__.
func fixture(t *testing.T, name string, fill map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	s := string(b)
	for k, v := range fill {
		require.Contains(t, s, k, "fixture %s has no %s", name, k)
		s = strings.ReplaceAll(s, k, v)
	}
	require.NotContains(t, s, "__", "unfilled placeholder in %s", name)
	return []byte(s)
}

// failures invokes an SQS handler the way the Lambda runtime does and
// returns the message ids it reported as failed.
func failures(t *testing.T, handler any, payload []byte) []string {
	t.Helper()
	out, err := lambda.NewHandler(handler).Invoke(t.Context(), payload)
	require.NoError(t, err)
	var resp events.SQSEventResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestResultsHandlerAppliesGoodResultsAndFailsStepsOfMalformedOnes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	task, err := h.eng.CreateTask(ctx, engine.TaskRequest{Namespace: namespace, Name: "pair"})
	require.NoError(t, err)
	msgs := h.drainSteps(t)
	require.Len(t, msgs, 2)
	stepUUID := map[string]string{}
	for _, m := range msgs {
		stepUUID[m.StepName] = m.StepUUID
		_, err := h.store.ClaimStep(ctx, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "worker-fixture", m.CorrelationID, h.now)
		require.NoError(t, err)
	}
	payload := fixture(t, "results-event.json", map[string]string{
		"__TASK_UUID__": task.UUID, "__STEP_A_UUID__": stepUUID["a"], "__STEP_B_UUID__": stepUUID["b"],
		"__CORRELATION_ID__": task.CorrelationID,
		"__STARTED_AT__":     h.now.Format(time.RFC3339Nano), "__FINISHED_AT__": h.now.Format(time.RFC3339Nano),
	})
	r := &lambdafn.Results{Engine: h.eng}

	require.Empty(t, failures(t, r.Handle, payload), "nothing in this batch is worth redelivering")

	a, err := h.store.GetStep(ctx, task.UUID, "a")
	require.NoError(t, err)
	require.Equal(t, statemachine.StepComplete, a.State)
	require.JSONEq(t, `{"sum":3}`, string(a.Result))

	b, err := h.store.GetStep(ctx, task.UUID, "b")
	require.NoError(t, err)
	require.Equal(t, statemachine.StepError, b.State)
	require.NotNil(t, b.Error)
	require.Equal(t, "invalid_result", b.Error.ErrorType)
	require.False(t, b.Error.Retryable)
	require.Contains(t, b.Error.Message, "bogus")

	got, err := h.store.GetTask(ctx, task.UUID)
	require.NoError(t, err)
	require.Equal(t, statemachine.TaskError, got.State, "b failed for good, so the task fails")
	require.Equal(t, 1, completions(t, h, task.UUID, "a"), "a is completed once")

	// Redelivering the whole batch changes nothing and reports nothing.
	require.Empty(t, failures(t, r.Handle, payload))
	again, err := h.store.GetTask(ctx, task.UUID)
	require.NoError(t, err)
	require.Equal(t, 1, completions(t, h, task.UUID, "a"))
	require.Equal(t, statemachine.TaskError, again.State)
}

// completions counts the complete transitions in a step's audit trail.
func completions(t *testing.T, h *harness, taskUUID, step string) int {
	t.Helper()
	s, err := h.store.GetStep(t.Context(), taskUUID, step)
	require.NoError(t, err)
	n := 0
	for _, tr := range s.History {
		if tr.To == string(statemachine.StepComplete) {
			n++
		}
	}
	return n
}

func TestResultsHandlerReportsRecordsThatFailTransiently(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	ghost := h.pendingTask(t, "9.9.9", h.now) // its template version was never registered
	good, err := h.eng.CreateTask(ctx, engine.TaskRequest{Namespace: namespace, Name: "pair"})
	require.NoError(t, err)
	for _, m := range h.drainSteps(t) {
		_, err := h.store.ClaimStep(ctx, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", "", h.now)
		require.NoError(t, err)
	}
	result := func(taskUUID, step string) string {
		b, err := json.Marshal(protocol.ResultMessage{V: protocol.Version, TaskUUID: taskUUID, StepName: step, Attempt: 1,
			Status: protocol.StatusSuccess, Result: json.RawMessage(`{}`), FinishedAt: h.now})
		require.NoError(t, err)
		return string(b)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ghost-result", Body: result(ghost.UUID, "a"), EventSource: "aws:sqs"},
		{MessageId: "good-result", Body: result(good.UUID, "a"), EventSource: "aws:sqs"},
		{MessageId: "unknown-task", Body: result(uuid.NewString(), "a"), EventSource: "aws:sqs"},
	}}
	payload, err := json.Marshal(ev)
	require.NoError(t, err)

	require.Equal(t, []string{"ghost-result"}, failures(t, (&lambdafn.Results{Engine: h.eng}).Handle, payload))
	a, err := h.store.GetStep(ctx, good.UUID, "a")
	require.NoError(t, err)
	require.Equal(t, statemachine.StepComplete, a.State)
}

func TestSchedulerHandler(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	pending := h.pendingTask(t, "1.0.0", h.now)
	ghost := h.pendingTask(t, "9.9.9", h.now) // its template version was never registered
	payload := fixture(t, "orchestration-event.json", map[string]string{
		"__PENDING_TASK__": pending.UUID, "__GHOST_TASK__": ghost.UUID, "__CORRELATION_ID__": pending.CorrelationID,
	})
	s := &lambdafn.Scheduler{Engine: h.eng}

	// Malformed messages (not JSON, unknown kind, unsupported version) and a
	// message about a missing task are acknowledged; only the record whose
	// processing failed comes back.
	require.Equal(t, []string{orchGhost}, failures(t, s.Handle, payload))

	started, err := h.store.GetTask(ctx, pending.UUID)
	require.NoError(t, err)
	require.Equal(t, statemachine.TaskStepsInProcess, started.State)
	msgs := h.drainSteps(t)
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		require.Equal(t, pending.UUID, m.TaskUUID)
		require.Equal(t, 1, m.Attempt)
		require.JSONEq(t, `{"x":1}`, string(m.Context))
		st, err := h.store.GetStep(ctx, pending.UUID, m.StepName)
		require.NoError(t, err)
		require.Equal(t, statemachine.StepEnqueued, st.State)
	}
	g, err := h.store.GetTask(ctx, ghost.UUID)
	require.NoError(t, err)
	require.Equal(t, statemachine.TaskPending, g.State, "the failed record changed nothing")

	// A redelivery of the start sends no step twice.
	require.Equal(t, []string{orchGhost}, failures(t, s.Handle, payload))
	require.Empty(t, h.drainSteps(t))
}

func TestSchedulerHandlerAcksEveryMalformedRecord(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ev events.SQSEvent
	require.NoError(t, json.Unmarshal(fixture(t, "orchestration-event.json", map[string]string{
		"__PENDING_TASK__": uuid.NewString(), "__GHOST_TASK__": uuid.NewString(), "__CORRELATION_ID__": uuid.NewString(),
	}), &ev))
	malformed := map[string]bool{orchNotJSON: true, orchUnknownKind: true, orchWrongVersion: true}
	var keep []events.SQSMessage
	for _, r := range ev.Records {
		if malformed[r.MessageId] {
			keep = append(keep, r)
		}
	}
	require.Len(t, keep, 3)
	ev.Records = keep
	payload, err := json.Marshal(ev)
	require.NoError(t, err)
	require.Empty(t, failures(t, (&lambdafn.Scheduler{Engine: h.eng}).Handle, payload))
}

func TestSweeperHandler(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	stale := h.pendingTask(t, "1.0.0", h.now.Add(-2*dynamo.StartRecoveryAfter))
	fresh := h.pendingTask(t, "1.0.0", h.now)
	payload := fixture(t, "scheduled-event.json", nil)
	handler := lambda.NewHandler((&lambdafn.Sweeper{Engine: h.eng}).Handle)

	out, err := handler.Invoke(ctx, payload)
	require.NoError(t, err)
	var rep engine.SweepReport
	require.NoError(t, json.Unmarshal(out, &rep))
	require.Equal(t, engine.SweepReport{Examined: 1, Started: 1}, rep)
	got, err := h.store.GetTask(ctx, stale.UUID)
	require.NoError(t, err)
	require.Equal(t, statemachine.TaskStepsInProcess, got.State, "the task left pending was started")
	got, err = h.store.GetTask(ctx, fresh.UUID)
	require.NoError(t, err)
	require.Equal(t, statemachine.TaskPending, got.State, "a task pending for less than StartRecoveryAfter is left alone")
	require.Len(t, h.drainSteps(t), 2)

	out, err = handler.Invoke(ctx, payload)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(out, &rep))
	require.Equal(t, engine.SweepReport{}, rep, "nothing is due any more")
}

func TestSweeperHandlerFailsWhenTheSweepCannotRun(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	eng, err := engine.New(engine.Config{Store: dynamo.New(f.Env.DynamoDB, f.Names.StateTable()+"-missing"),
		Queue: sqsqueue.New(f.Env.SQS, f.Provisioned.QueueURLs), Names: f.Names})
	require.NoError(t, err)
	_, err = lambda.NewHandler((&lambdafn.Sweeper{Engine: eng}).Handle).Invoke(t.Context(), fixture(t, "scheduled-event.json", nil))
	require.Error(t, err, "the schedule's retry policy must see the failure")
}

func TestHandlersAcceptAnEmptyBatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	payload := []byte(`{"Records":[]}`)
	require.Empty(t, failures(t, (&lambdafn.Scheduler{Engine: h.eng}).Handle, payload))
	require.Empty(t, failures(t, (&lambdafn.Results{Engine: h.eng}).Handle, payload))
}

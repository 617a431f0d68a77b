package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/worker"
	"github.com/tasker-go/tasker/pkg/workflow"
)

const testNamespace = "ns1"

// epoch is the fixed time the tests' clock reports.
var epoch = time.Date(2025, 10, 10, 12, 0, 0, 0, time.UTC)

// harness is one test's Tasker resources on the local AWS plus a worker.
type harness struct {
	t        testing.TB
	f        *localtest.Fixture
	store    *dynamo.Store
	sqs      *sqs.Client
	steps    string // step queue URL
	results  string // results queue URL
	registry *worker.Registry
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	f := localtest.New(t, testNamespace)
	return &harness{
		t: t, f: f,
		store:    dynamo.New(f.Env.DynamoDB, f.Names.StateTable()),
		sqs:      f.Env.SQS,
		steps:    f.QueueURL(f.Names.StepQueue(testNamespace)),
		results:  f.QueueURL(f.Names.ResultsQueue()),
		registry: worker.NewRegistry(),
	}
}

// config returns a worker config over the harness's resources.
func (h *harness) config() worker.Config {
	return worker.Config{
		Store: h.store, SQS: h.sqs, ResultsQueueURL: h.results, Registry: h.registry,
		WorkerID: "test-worker", Clock: func() time.Time { return epoch },
		Logger: slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func (h *harness) worker() *worker.Worker {
	h.t.Helper()
	w, err := worker.New(h.config())
	require.NoError(h.t, err)
	return w
}

// stepSpec describes a step to create in the enqueued state.
type stepSpec struct {
	name, handler, stepType string
	uuid                    string // default: a new UUID
	timeoutSecs             int
	context                 json.RawMessage
	config                  json.RawMessage
	parents                 map[string]json.RawMessage
	inputs                  json.RawMessage
}

// enqueue creates a pending task with one enqueued step and returns the
// step message the engine would send for its first attempt.
func (h *harness) enqueue(spec stepSpec) *protocol.StepMessage {
	h.t.Helper()
	return h.enqueueTask(uuid.NewString(), "corr-"+uuid.NewString()[:8], spec)[0]
}

// enqueueTask creates a pending task with the given enqueued steps and
// returns their first-attempt step messages.
func (h *harness) enqueueTask(taskUUID, correlationID string, specs ...stepSpec) []*protocol.StepMessage {
	h.t.Helper()
	task := &workflow.Task{
		UUID: taskUUID, Namespace: testNamespace, Name: "test_task", Version: "1.0.0",
		State: statemachine.TaskPending, Context: json.RawMessage(`{}`), CorrelationID: correlationID,
		CreatedAt: epoch, UpdatedAt: epoch,
	}
	steps := make([]*workflow.Step, len(specs))
	msgs := make([]*protocol.StepMessage, len(specs))
	for i, spec := range specs {
		if spec.context == nil {
			spec.context = json.RawMessage(`{}`)
		}
		if spec.uuid == "" {
			spec.uuid = uuid.NewString()
		}
		steps[i] = &workflow.Step{
			TaskUUID: task.UUID, UUID: spec.uuid, Name: spec.name, TemplateStep: spec.name,
			Handler: spec.handler, Type: spec.stepType, State: statemachine.StepEnqueued,
			MaxAttempts: 3, Retryable: true, TimeoutSecs: spec.timeoutSecs, Inputs: spec.inputs,
			CreatedAt: epoch, EnqueuedAt: &epoch,
		}
		msgs[i] = &protocol.StepMessage{
			V: protocol.Version, TaskUUID: task.UUID, StepUUID: spec.uuid, StepName: spec.name,
			Namespace: testNamespace, TaskName: task.Name, TaskVersion: task.Version, Handler: spec.handler,
			StepType: spec.stepType, Attempt: 1, MaxAttempts: 3, TimeoutSecs: spec.timeoutSecs,
			CorrelationID: correlationID, EnqueuedAt: epoch,
			StepPayload: protocol.StepPayload{Context: spec.context, Config: spec.config, Parents: spec.parents, Inputs: spec.inputs},
		}
	}
	require.NoError(h.t, h.store.CreateTask(context.Background(), task, steps))
	return msgs
}

func body(t testing.TB, msg *protocol.StepMessage) []byte {
	t.Helper()
	b, err := json.Marshal(msg)
	require.NoError(t, err)
	return b
}

// send puts a step message on the step queue.
func (h *harness) send(msg *protocol.StepMessage) {
	h.t.Helper()
	_, err := h.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(h.steps), MessageBody: aws.String(string(body(h.t, msg))),
	})
	require.NoError(h.t, err)
}

// result is a result message as received, with its correlation attribute.
type result struct {
	protocol.ResultMessage
	attrCorrelationID string
}

// receiveResult waits up to 10 s for the next result message and deletes it.
func (h *harness) receiveResult() *result {
	h.t.Helper()
	r := h.tryReceiveResult(10 * time.Second)
	require.NotNil(h.t, r, "no result message arrived")
	return r
}

// tryReceiveResult returns the next result message within wait, or nil.
func (h *harness) tryReceiveResult(wait time.Duration) *result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait+5*time.Second)
	defer cancel()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		out, err := h.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(h.results), MaxNumberOfMessages: 1,
			WaitTimeSeconds:       int32(max(1, time.Until(deadline)/time.Second)),
			MessageAttributeNames: []string{"All"},
		})
		require.NoError(h.t, err)
		if len(out.Messages) == 0 {
			continue
		}
		m := out.Messages[0]
		_, err = h.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(h.results), ReceiptHandle: m.ReceiptHandle})
		require.NoError(h.t, err)
		res, err := protocol.Decode[protocol.ResultMessage]([]byte(aws.ToString(m.Body)))
		require.NoError(h.t, err)
		r := &result{ResultMessage: *res}
		if a, ok := m.MessageAttributes[worker.AttrCorrelationID]; ok {
			r.attrCorrelationID = aws.ToString(a.StringValue)
		}
		return r
	}
	return nil
}

// queueDepth returns the visible plus in-flight messages of a queue.
func (h *harness) queueDepth(url string) int {
	h.t.Helper()
	out, err := h.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	require.NoError(h.t, err)
	n := 0
	for _, v := range out.Attributes {
		i, err := strconv.Atoi(v)
		require.NoError(h.t, err)
		n += i
	}
	return n
}

// requireEmpty waits until the step queue holds no message at all.
func (h *harness) requireStepQueueEmpty() {
	h.t.Helper()
	require.Eventually(h.t, func() bool { return h.queueDepth(h.steps) == 0 }, 10*time.Second, 50*time.Millisecond,
		"step queue still holds messages")
}

// poll runs w.Poll until the returned stop function is called; stop waits
// for Poll to return and returns its error.
func (h *harness) poll(w *worker.Worker, pc worker.PollerConfig) (stop func() error) {
	h.t.Helper()
	if pc.QueueURL == "" {
		pc.QueueURL = h.steps
	}
	if pc.WaitTime == 0 {
		pc.WaitTime = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Poll(ctx, pc) }()
	stopped := false
	var err error
	stop = func() error {
		if stopped {
			return err
		}
		stopped = true
		cancel()
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			h.t.Fatal("Poll did not return within 30 s of cancellation")
		}
		return err
	}
	h.t.Cleanup(func() { _ = stop() })
	return stop
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

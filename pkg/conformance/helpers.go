package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/engine"
)

// Deadlines of the checks. Every wait polls real state until its deadline;
// none sleeps a fixed time.
const (
	taskDeadline  = 30 * time.Second
	drainDeadline = 15 * time.Second
	pollEvery     = 25 * time.Millisecond
)

// deadline returns a context that ends after d or when the test ends.
func deadline(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// create creates a task of the suite's template name with context ctxJSON.
func (s *suite) create(t *testing.T, name string, ctxJSON any) *api.TaskResponse {
	t.Helper()
	raw, err := json.Marshal(ctxJSON)
	if err != nil {
		t.Fatalf("encode context: %v", err)
	}
	task, err := s.api.CreateTask(deadline(t, 10*time.Second), engine.TaskRequest{Namespace: Namespace, Name: name, Context: raw})
	if err != nil {
		t.Fatalf("create %s task: %v", name, err)
	}
	return task
}

// run creates a task and waits until it is terminal.
func (s *suite) run(t *testing.T, name string, ctxJSON any) *api.TaskResponse {
	t.Helper()
	return s.wait(t, s.create(t, name, ctxJSON).TaskUUID)
}

// wait waits until a task is terminal and returns it.
func (s *suite) wait(t *testing.T, taskUUID string) *api.TaskResponse {
	t.Helper()
	task, err := s.api.WaitForTask(deadline(t, taskDeadline), taskUUID, pollEvery)
	if err != nil {
		status := "unknown"
		if task != nil {
			status = task.Status + " " + stepStates(task)
		}
		t.Fatalf("task %s did not finish: %v (last seen: %s)", taskUUID, err, status)
	}
	return task
}

// expectStatus fails t unless the task has the status.
func expectStatus(t *testing.T, task *api.TaskResponse, want string) {
	t.Helper()
	if task.Status != want {
		t.Fatalf("task %s (%s) is %s, want %s; steps: %s", task.TaskUUID, task.Name, task.Status, want, stepStates(task))
	}
}

func stepStates(task *api.TaskResponse) string {
	var b bytes.Buffer
	for _, st := range task.Steps {
		fmt.Fprintf(&b, "%s=%s(attempts %d", st.Name, st.CurrentState, st.Attempts)
		if st.Error != nil {
			fmt.Fprintf(&b, ", error %q", st.Error.Message)
		}
		b.WriteString(") ")
	}
	return b.String()
}

// stepNames returns the names of a task's steps, sorted.
func stepNames(task *api.TaskResponse) []string {
	var out []string
	for _, st := range task.Steps {
		out = append(out, st.Name)
	}
	sort.Strings(out)
	return out
}

// step returns a task's step by name with its full result (read on its own,
// so a result stored out of line is included).
func (s *suite) step(t *testing.T, task *api.TaskResponse, name string) *api.StepResponse {
	t.Helper()
	for _, st := range task.Steps {
		if st.Name == name {
			full, err := s.api.GetStep(deadline(t, 10*time.Second), task.TaskUUID, st.StepUUID)
			if err != nil {
				t.Fatalf("get step %s: %v", name, err)
			}
			return full
		}
	}
	t.Fatalf("task %s has no step %q (steps: %v)", task.TaskUUID, name, stepNames(task))
	return nil
}

// decode decodes JSON into a generic value (numbers as float64), failing t.
func decode(t *testing.T, what string, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s is not JSON: %v: %.200s", what, err, raw)
	}
	return v
}

// echoResult is what conformance.echo returns.
type echoResult struct {
	Context        json.RawMessage            `json:"context"`
	Parents        map[string]json.RawMessage `json:"parents"`
	Config         json.RawMessage            `json:"config"`
	Attempt        int                        `json:"attempt"`
	IdempotencyKey string                     `json:"idempotency_key"`
}

func decodeEcho(t *testing.T, st *api.StepResponse) echoResult {
	t.Helper()
	var r echoResult
	if err := json.Unmarshal(st.Results, &r); err != nil {
		t.Fatalf("step %s: result is not an echo result: %v: %.300s", st.Name, err, st.Results)
	}
	return r
}

// sameJSON fails t unless got and want are equal JSON values.
func sameJSON(t *testing.T, what string, got []byte, want []byte) {
	t.Helper()
	g, w := decode(t, what, got), decode(t, what+" (expected)", want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %.500s, want %.500s", what, got, want)
	}
}

// expectEffects fails t unless the handler ran exactly n times for the
// step's attempt.
func (s *suite) expectEffects(t *testing.T, st *api.StepResponse, attempt, n int) {
	t.Helper()
	if got := s.worker.effectCount(st.StepUUID, attempt); got != n {
		t.Fatalf("step %s attempt %d: handler ran %d times (EFFECT lines), want %d", st.Name, attempt, got, n)
	}
}

// queueCounts returns the visible, in-flight and delayed messages of a queue.
func (s *suite) queueCounts(ctx context.Context, url string) (visible, inflight, delayed int, err error) {
	out, err := s.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, 0, 0, err
	}
	n := func(k types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		return v
	}
	return n(types.QueueAttributeNameApproximateNumberOfMessages), n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed), nil
}

// waitDrained waits until the step queue holds no message, visible or in
// flight: the worker received and deleted everything sent to it. A message
// the worker left undeleted stays in flight for the queue's visibility
// timeout (minutes), far past the deadline.
func (s *suite) waitDrained(t *testing.T) {
	t.Helper()
	ctx := deadline(t, drainDeadline)
	var v, f, d int
	var lastErr error
	for {
		s.expectAlive(t)
		cv, cf, cd, err := s.queueCounts(ctx, s.stepQueueURL)
		if err == nil && cv+cf+cd == 0 {
			return
		}
		if err == nil {
			v, f, d = cv, cf, cd
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("step queue not drained after %s: %d visible, %d in flight (received, not deleted), %d delayed (last error %v)",
				drainDeadline, v, f, d, lastErr)
		case <-time.After(pollEvery):
		}
	}
}

// send sends bodies to the step queue as they are (untapped client).
func (s *suite) send(t *testing.T, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := s.sqs.SendMessage(deadline(t, 10*time.Second), &sqs.SendMessageInput{
			QueueUrl: aws.String(s.stepQueueURL), MessageBody: aws.String(b)}); err != nil {
			t.Fatalf("send to step queue: %v", err)
		}
	}
}

// expectAlive fails t if the worker process has exited.
func (s *suite) expectAlive(t *testing.T) {
	t.Helper()
	if ok, err := s.worker.alive(); !ok {
		t.Fatalf("the worker exited: %v", err)
	}
}

// stepByName returns a task's step (from a task read) by name, failing t.
func stepByName(t *testing.T, task *api.TaskResponse, name string) api.StepResponse {
	t.Helper()
	for _, st := range task.Steps {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("task %s has no step %q (steps: %v)", task.TaskUUID, name, stepNames(task))
	return api.StepResponse{}
}

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

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

// guardedTemplate has a plain root, a decision under it and a batchable root
// with its workers, so one task offers every kind of result to corrupt.
const guardedTemplate = `
namespace: bad_results
name: guarded
version: "1.0.0"
steps:
  - {name: start, handler: ok}
  - {name: route, type: decision, handler: pick, dependencies: [start]}
  - {name: branch, handler: ok, dependencies: [route]}
  - {name: split, type: batchable, handler: split}
  - {name: work, type: batch_worker, handler: work, dependencies: [split], batch_config: {worker_template: work}}
  - {name: agg, type: deferred_convergence, handler: agg, dependencies: [work]}
`

// resultRig is an engine on the emulator with no workers: the test plays
// the worker, claiming steps and handing results to the results function.
type resultRig struct {
	t       testing.TB
	store   *dynamo.Store
	eng     *engine.Engine
	results func(context.Context, []byte) ([]byte, error)
	seq     atomic.Int64
}

func newResultRig(t testing.TB) *resultRig {
	t.Helper()
	tpl, err := template.Parse([]byte(guardedTemplate), "guarded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := localtest.New(t, tpl.Namespace)
	r := &resultRig{t: t, store: dynamo.New(f.Env.DynamoDB, f.Names.StateTable())}
	r.eng, err = engine.New(engine.Config{Store: r.store, Queue: sqsqueue.New(f.Env.SQS, f.Provisioned.QueueURLs),
		Names: f.Names, MaxBatchWorkers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eng.RegisterTemplate(context.Background(), tpl); err != nil {
		t.Fatal(err)
	}
	r.results = lambda.NewHandler((&lambdafn.Results{Engine: r.eng}).Handle).Invoke
	return r
}

// task creates a task and claims step (running start first when step is
// route), as a worker would.
func (r *resultRig) task(step string) string {
	r.t.Helper()
	ctx := context.Background()
	task, err := r.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "bad_results", Name: "guarded",
		Context: json.RawMessage(fmt.Sprintf(`{"seq":%d}`, r.seq.Add(1)))})
	if err != nil {
		r.t.Fatal(err)
	}
	if step == "route" {
		r.claim(task.UUID, "start")
		if err := r.eng.HandleResult(ctx, &protocol.ResultMessage{V: protocol.Version, TaskUUID: task.UUID, StepName: "start",
			Attempt: 1, Status: protocol.StatusSuccess, Result: json.RawMessage(`{}`)}); err != nil {
			r.t.Fatal(err)
		}
	}
	r.claim(task.UUID, step)
	return task.UUID
}

func (r *resultRig) claim(taskUUID, step string) {
	r.t.Helper()
	if _, err := claimStep(context.Background(), r.store, taskUUID, step, 1, time.Minute, "test-worker", "", time.Now()); err != nil {
		r.t.Fatalf("claim %s: %v", step, err)
	}
}

// deliver hands one message body to the results function as an SQS event
// and requires it to be consumed (not left for redelivery).
func (r *resultRig) deliver(body string) {
	r.t.Helper()
	ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: body}}})
	if err != nil {
		r.t.Fatal(err)
	}
	out, err := r.results(context.Background(), ev)
	if err != nil {
		r.t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		r.t.Fatal(err)
	}
	if len(resp.BatchItemFailures) > 0 {
		r.t.Fatalf("the results function left the message for redelivery (a poison message): %s", truncate(body))
	}
}

// snapshot maps each step of a task to its state and attempts.
func (r *resultRig) snapshot(taskUUID string) map[string]string {
	r.t.Helper()
	steps, err := r.store.ListSteps(context.Background(), taskUUID)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range steps {
		out[s.Name] = fmt.Sprintf("%s/%d", s.State, s.Attempts)
	}
	return out
}

func (r *resultRig) step(taskUUID, name string) *workflow.Step {
	r.t.Helper()
	s, err := r.store.GetStep(context.Background(), taskUUID, name)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// resultBody builds a result message; fields override or add top-level
// fields (raw JSON values; "-" removes one).
func resultBody(taskUUID, step string, fields map[string]string) string {
	m := map[string]string{"v": "1", "task_uuid": `"` + taskUUID + `"`, "step_name": `"` + step + `"`, "attempt": "1",
		"status": `"success"`, "result": `{}`}
	maps.Copy(m, fields)
	var parts []string
	for k, v := range m {
		if v != "-" {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestRejectedResults hands the results function the messages a buggy or
// hostile worker could send. Each one the engine can attribute fails the
// attempt permanently with a reason and changes no other step; one that
// names no step changes nothing at all. None is left for redelivery.
func TestRejectedResults(t *testing.T) {
	t.Parallel()
	r := newResultRig(t)
	deep := strings.Repeat("[", protocol.MaxJSONDepth+1) + strings.Repeat("]", protocol.MaxJSONDepth+1)
	cursor := func(id, start string) string {
		return `{"batch_id":"` + id + `","start_cursor":` + start + `,"end_cursor":1,"batch_size":1}`
	}
	batch := func(cursors ...string) string {
		return `{"batch_processing_outcome":{"type":"create_batches","cursor_configs":[` + strings.Join(cursors, ",") + `]}}`
	}
	tests := []struct {
		name   string
		step   string
		fields func(taskUUID string) map[string]string
		reason string // "" when the message must change nothing
	}{
		{"no status", "start", fixed(map[string]string{"status": "-"}), "status: unknown value"},
		{"failure without an error", "start", fixed(map[string]string{"status": `"retryable_error"`}), "error: required"},
		{"error message too long", "start", fixed(map[string]string{"status": `"retryable_error"`,
			"error": `{"message":"` + strings.Repeat("x", protocol.MaxErrorMessageBytes+1) + `","retryable":true}`}), "error.message"},
		{"negative retry_after", "start", fixed(map[string]string{"status": `"retryable_error"`,
			"error": `{"message":"m","retryable":true,"retry_after_seconds":-5}`}), "retry_after_seconds"},
		{"error context too deep", "start", fixed(map[string]string{"status": `"retryable_error"`,
			"error": `{"message":"m","retryable":true,"context":` + deep + `}`}), "error.context: nested"},
		{"result too deep", "start", fixed(map[string]string{"result": deep}), "result: nested"},
		{"worker_id too long", "start", fixed(map[string]string{"worker_id": `"` + strings.Repeat("w", 300) + `"`}), "worker_id"},
		{"step_uuid not a UUID", "start", fixed(map[string]string{"step_uuid": `"S#start"`}), "step_uuid"},
		{"result_ref into another task", "start", fixed(map[string]string{"result": "-",
			"result_ref": `{"pk":"T#0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01","sk":"B#x","chunks":1,"bytes":2}`}), "outside the task"},
		{"result_ref to nothing", "start", func(task string) map[string]string {
			return map[string]string{"result": "-", "result_ref": `{"pk":"T#` + task + `","sk":"B#none","chunks":1,"bytes":2}`}
		}, "no stored result"},
		{"result_ref to invalid JSON", "start", func(task string) map[string]string {
			return map[string]string{"result": "-", "result_ref": savePayload(t, r, task, "{not json")}
		}, "not valid JSON"},
		{"result_ref to a deep result", "start", func(task string) map[string]string {
			return map[string]string{"result": "-", "result_ref": savePayload(t, r, task, deep)}
		}, "nested more than"},
		{"decision outside its descendants", "route", fixed(map[string]string{
			"result": `{"decision_point_outcome":{"type":"create_steps","step_names":["split"]}}`}), "not one of its descendants"},
		{"decision step name with a key separator", "route", fixed(map[string]string{
			"result": `{"decision_point_outcome":{"type":"create_steps","step_names":["S#branch"]}}`}), "step_names[0]"},
		{"decision without an outcome", "route", fixed(nil), "no decision_point_outcome"},
		{"unknown batch outcome", "split", fixed(map[string]string{
			"result": `{"batch_processing_outcome":{"type":"create_everything"}}`}), "unknown value"},
		{"duplicate batch ids", "split", fixed(map[string]string{"result": batch(cursor("a", "0"), cursor("a", "1"))}), "duplicate"},
		{"batch id with a key separator", "split", fixed(map[string]string{"result": batch(cursor("a#b", "0"))}), "batch_id"},
		{"cursor too large", "split", fixed(map[string]string{"result": batch(cursor("a", `"`+strings.Repeat("c", protocol.MaxCursorBytes)+`"`))}), "start_cursor"},
		{"too many batch workers", "split", fixed(map[string]string{"result": batch(cursor("a", "0"), cursor("b", "0"), cursor("c", "0"), cursor("d", "0"))}), "limit is 3"},
		{"task_uuid not a UUID", "start", fixed(map[string]string{"task_uuid": `"T#x"`}), ""},
		{"task_uuid far too long", "start", fixed(map[string]string{"task_uuid": `"` + strings.Repeat("t", 3000) + `"`, "status": "-"}), ""},
		{"step_name far too long", "start", fixed(map[string]string{"step_name": `"` + strings.Repeat("s", 3000) + `"`, "status": "-"}), ""},
		{"not JSON", "start", func(string) map[string]string { return nil }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := r.task(tc.step)
			before := r.snapshot(task)
			body := resultBody(task, tc.step, tc.fields(task))
			if tc.name == "not JSON" {
				body = `{"task_uuid":"` + task + `","step_name":"` + tc.step
			}
			r.deliver(body)
			after := r.snapshot(task)
			if tc.reason == "" {
				if !maps.Equal(before, after) {
					t.Fatalf("a message naming no step changed steps:\nbefore %v\nafter  %v", before, after)
				}
				return
			}
			s := r.step(task, tc.step)
			if s.State != statemachine.StepError || s.Error == nil || s.Error.Retryable {
				t.Fatalf("step %s is %s (error %+v), want a permanent error", tc.step, s.State, s.Error)
			}
			if !strings.Contains(s.Error.Message, tc.reason) {
				t.Fatalf("reason %q does not say %q", s.Error.Message, tc.reason)
			}
			delete(before, tc.step)
			delete(after, tc.step)
			if !maps.Equal(before, after) {
				t.Fatalf("rejecting %s changed other steps:\nbefore %v\nafter  %v", tc.step, before, after)
			}
		})
	}
}

func fixed(fields map[string]string) func(string) map[string]string {
	return func(string) map[string]string { return fields }
}

// savePayload stores data in the task's partition, as a worker may, and
// returns a result_ref to it.
func savePayload(t *testing.T, r *resultRig, taskUUID, data string) string {
	t.Helper()
	ref, err := r.store.SavePayload(context.Background(), taskUUID, "start#1#result", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzBatchOutcome applies fuzzed results of the batchable step through the
// engine on the emulator, one fresh task per input. Whatever the result,
// the results function consumes it and the step ends complete (and then
// exactly its batch workers exist) or permanently failed with a reason
// (and no worker exists).
func FuzzBatchOutcome(f *testing.F) {
	for _, s := range []string{
		`{"batch_processing_outcome":{"type":"create_batches","cursor_configs":[{"batch_id":"0","start_cursor":0,"end_cursor":10,"batch_size":10}]}}`,
		`{"batch_processing_outcome":{"type":"no_batches"}}`,
		`{"batch_processing_outcome":{"type":"create_batches","worker_template_name":"agg","cursor_configs":[{"batch_id":"x"}]}}`,
		`{"batch_processing_outcome":{"type":"create_batches","cursor_configs":[{"batch_id":"a","start_cursor":{"k":[1,"]"]}},{"batch_id":"b"}]}}`,
		`{"decision_point_outcome":{"type":"create_steps","step_names":["branch"]}}`,
		`[]`, `null`, `"x"`,
	} {
		f.Add(s)
	}
	r := newResultRig(f)
	f.Fuzz(func(t *testing.T, result string) {
		if len(result) > protocol.MaxInlineBytes || !json.Valid([]byte(result)) {
			return
		}
		r.t = t
		task := r.task("split")
		r.deliver(resultBody(task, "split", map[string]string{"result": result}))
		steps := r.snapshot(task)
		workers := 0
		for n := range steps {
			if strings.HasPrefix(n, "work_") {
				workers++
			}
		}
		s := r.step(task, "split")
		switch s.State {
		case statemachine.StepComplete:
			if workers == 0 || workers > 3 {
				t.Fatalf("split completed with %d batch workers: %v", workers, steps)
			}
		case statemachine.StepError:
			if s.Error == nil || s.Error.Retryable || s.Error.Message == "" || workers != 0 {
				t.Fatalf("split failed with %+v and %d workers", s.Error, workers)
			}
		default:
			t.Fatalf("split is %s after its result", s.State)
		}
	})
}

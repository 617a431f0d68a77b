package devstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// opsTemplates are the operations tests' own templates: handlers whose
// behaviour the tests control.
var opsTemplates = map[string]string{
	"reset_chain": `name: reset_chain
namespace_name: ops
version: 1.0.0
steps:
  - name: flaky
    handler: {callable: ops.fail_first}
  - name: after
    handler: {callable: ops.echo}
    dependencies: [flaky]
`,
	"broken_chain": `name: broken_chain
namespace_name: ops
version: 1.0.0
steps:
  - name: broken
    handler: {callable: ops.fail_always}
  - name: after
    handler: {callable: ops.echo}
    dependencies: [broken]
`,
	"gated_chain": `name: gated_chain
namespace_name: ops
version: 1.0.0
steps:
  - name: slow
    handler: {callable: ops.gated}
  - name: dependent
    handler: {callable: ops.echo}
    dependencies: [slow]
  - name: last
    handler: {callable: ops.echo}
    dependencies: [dependent]
`,
	"hangs": `name: hangs
namespace_name: stale
version: 1.0.0
lifecycle: {max_steps_in_process_minutes: 1}
steps:
  - name: hang
    handler: {callable: ops.gated}
    timeout_seconds: 600
`,
}

// run is one handler invocation.
type run struct {
	Start, End time.Time // End is zero while it runs
	Attempt    int
	Parents    map[string]json.RawMessage
}

// opsHandlers are the tests' handlers; they record every invocation.
type opsHandlers struct {
	mu    sync.Mutex
	runs  map[string][]*run // "task/step"
	gates map[string]chan struct{}
	// released is set by openAll: gates made after it are open, so a
	// handler that starts while the stack stops does not block Close.
	released bool
}

func newOpsHandlers() *opsHandlers {
	return &opsHandlers{runs: map[string][]*run{}, gates: map[string]chan struct{}{}}
}

func (h *opsHandlers) register(reg *worker.Registry) {
	reg.RegisterFunc("ops.fail_first", h.recorded(func(_ context.Context, s *worker.Step, n int) (worker.Result, error) {
		if n == 1 {
			return worker.Result{}, worker.Permanent(errors.New("first run fails for good"))
		}
		return worker.Success(map[string]any{"ok": true, "run": n})
	}))
	reg.RegisterFunc("ops.fail_always", h.recorded(func(context.Context, *worker.Step, int) (worker.Result, error) {
		return worker.Result{}, worker.Permanent(errors.New("always fails"))
	}))
	reg.RegisterFunc("ops.echo", h.recorded(func(_ context.Context, s *worker.Step, _ int) (worker.Result, error) {
		return worker.Success(map[string]any{"parents": s.Parents})
	}))
	reg.RegisterFunc("ops.gated", h.recorded(func(ctx context.Context, s *worker.Step, _ int) (worker.Result, error) {
		select {
		case <-h.gate(s.TaskUUID + "/" + s.Name):
			return worker.Success(map[string]any{"gated": true})
		case <-ctx.Done():
			return worker.Result{}, ctx.Err()
		}
	}))
}

// recorded wraps fn to record the invocation; n is the how-many-th run of
// this task's step it is.
func (h *opsHandlers) recorded(fn func(context.Context, *worker.Step, int) (worker.Result, error)) func(context.Context, *worker.Step) (worker.Result, error) {
	return func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		r := &run{Start: time.Now(), Attempt: s.Attempt, Parents: s.Parents}
		key := s.TaskUUID + "/" + s.Name
		h.mu.Lock()
		h.runs[key] = append(h.runs[key], r)
		n := len(h.runs[key])
		h.mu.Unlock()
		res, err := fn(ctx, s, n)
		h.mu.Lock()
		r.End = time.Now()
		h.mu.Unlock()
		return res, err
	}
}

func (h *opsHandlers) gate(key string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok := h.gates[key]
	if !ok {
		g = make(chan struct{})
		if h.released {
			close(g)
		}
		h.gates[key] = g
	}
	return g
}

// open lets a gated step finish.
func (h *opsHandlers) open(task, step string) {
	g := h.gate(task + "/" + step)
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-g:
	default:
		close(g)
	}
}

// openAll releases every gated step (before the stack stops).
func (h *opsHandlers) openAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.released = true
	for _, g := range h.gates {
		select {
		case <-g:
		default:
			close(g)
		}
	}
}

// runsOf returns copies of a step's recorded runs.
func (h *opsHandlers) runsOf(task, step string) []run {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []run
	for _, r := range h.runs[task+"/"+step] {
		out = append(out, *r)
	}
	return out
}

// testClock is the engine's clock: real time plus an offset the test moves.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// opsSystem is a local stack for the operations tests, reached through its
// HTTP API.
type opsSystem struct {
	t   *testing.T
	st  *devstack.Stack
	cl  *client.Client
	h   *opsHandlers
	url string
}

// startOps starts a stack with the tests' handlers and the sample handlers,
// the named opsTemplates and the given repository template files. A
// non-nil clock becomes the engine's. The background sweeper stays idle
// (nothing here needs it, and a sweep long-polls every dead-letter queue for
// a second, which Close would wait for): tests that need a sweep run
// Engine.Sweep themselves.
func startOps(t *testing.T, clock *testClock, names []string, files ...string) *opsSystem {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(opsTemplates[name]), 0o600))
	}
	tpls, err := template.LoadDir(dir)
	require.NoError(t, err)
	for _, f := range files {
		tpl, err := template.ParseFile(f)
		require.NoError(t, err)
		tpls = append(tpls, tpl)
	}
	h := newOpsHandlers()
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	h.register(reg)
	o := devstack.Options{Env: localtest.Env(t), Prefix: fmt.Sprintf("ops-%d-%d", prefixSeq.Add(1), time.Now().UnixNano()%1000000),
		Templates: tpls, Registry: reg, APIAddr: "127.0.0.1:0", SweepEvery: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if clock != nil {
		o.EngineConfig.Clock = clock.now
		o.EngineConfig.IndexFirstCheck = true // the tests drive every check with Sweep on a fake clock
	}
	st, err := devstack.Start(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	t.Cleanup(h.openAll) // runs first: no handler is left blocking Close
	return &opsSystem{t: t, st: st, cl: client.New(st.APIURL), h: h, url: st.APIURL}
}

func (s *opsSystem) create(ns, name, ctxJSON string) *api.TaskResponse {
	s.t.Helper()
	task, err := s.cl.CreateTask(context.Background(), engine.TaskRequest{Namespace: ns, Name: name, Context: json.RawMessage(ctxJSON)})
	require.NoError(s.t, err)
	return task
}

// wait polls the task until cond holds (20 s at most) and returns it.
func (s *opsSystem) wait(id, what string, cond func(*api.TaskResponse) bool) *api.TaskResponse {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		task, err := s.cl.GetTask(context.Background(), id)
		require.NoError(s.t, err)
		if cond(task) {
			return task
		}
		if time.Now().After(deadline) {
			for _, st := range task.Steps {
				s.t.Logf("  %s: %s attempts=%d err=%+v", st.Name, st.CurrentState, st.Attempts, st.Error)
			}
			s.t.Fatalf("task %s: %s: still %s", id, what, task.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *opsSystem) waitStatus(id, status string) *api.TaskResponse {
	s.t.Helper()
	return s.wait(id, "waiting for "+status, func(t *api.TaskResponse) bool { return t.Status == status })
}

func (s *opsSystem) waitStep(id, step, state string) *api.TaskResponse {
	s.t.Helper()
	return s.wait(id, "waiting for step "+step+" "+state, func(t *api.TaskResponse) bool { return stepOf(t, step).CurrentState == state })
}

// waitStarted waits until the step's handler is running.
func (s *opsSystem) waitStarted(id, step string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(s.h.runsOf(id, step)) == 0 {
		if time.Now().After(deadline) {
			s.t.Fatalf("step %s of task %s never started", step, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stepOf(t *api.TaskResponse, name string) api.StepResponse {
	for _, s := range t.Steps {
		if s.Name == name {
			return s
		}
	}
	return api.StepResponse{}
}

func requireAPIError(t *testing.T, err error, status int, code string) *client.APIError {
	t.Helper()
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, status, apiErr.Status, apiErr.Error())
	require.Equal(t, code, apiErr.Code, apiErr.Error())
	require.NotEmpty(t, apiErr.Message)
	return apiErr
}

// TestManualActionsRedriveFailedTasks: each manual action takes a task that
// ended in error to completion.
func TestManualActionsRedriveFailedTasks(t *testing.T) {
	t.Parallel()
	sys := startOps(t, nil, []string{"reset_chain", "broken_chain"}, "../../templates/acceptance/retry_exhaustion.yaml")
	ctx := context.Background()

	t.Run("reset_for_retry", func(t *testing.T) {
		t.Parallel()
		task := sys.create("ops", "reset_chain", `{}`)
		failed := sys.waitStatus(task.TaskUUID, "error")
		flaky := stepOf(failed, "flaky")
		require.Equal(t, "error", flaky.CurrentState)
		require.Equal(t, 1, flaky.Attempts)
		require.Empty(t, sys.h.runsOf(task.TaskUUID, "after"))

		reset, err := sys.cl.ResetStep(ctx, task.TaskUUID, flaky.StepUUID, "transient outage is over", "ops")
		require.NoError(t, err)
		require.NotEqual(t, "error", reset.CurrentState)
		done := sys.waitStatus(task.TaskUUID, "complete")
		require.Equal(t, 1, stepOf(done, "flaky").Attempts, "attempts started again from zero")
		require.Len(t, sys.h.runsOf(task.TaskUUID, "flaky"), 2)
		after := sys.h.runsOf(task.TaskUUID, "after")
		require.Len(t, after, 1)
		require.JSONEq(t, `{"ok": true, "run": 2}`, string(after[0].Parents["flaky"]))
		audit, err := sys.cl.TaskAudit(ctx, task.TaskUUID)
		require.NoError(t, err)
		require.True(t, auditHas(audit, "flaky", "pending", "reset_for_retry", "transient outage is over (by ops)"), "audit: %+v", audit)
		require.True(t, auditHas(audit, "task", "pending", "reset", "manual reset_for_retry (by ops)"), "the task is reopened: %+v", audit)
	})

	t.Run("resolve_manually", func(t *testing.T) {
		t.Parallel()
		task := sys.create("ops", "broken_chain", `{}`)
		failed := sys.waitStatus(task.TaskUUID, "error")
		resolved, err := sys.cl.ResolveStep(ctx, task.TaskUUID, stepOf(failed, "broken").StepUUID, "not needed for this order", "ops")
		require.NoError(t, err)
		require.Equal(t, "resolved_manually", resolved.CurrentState)
		done := sys.waitStatus(task.TaskUUID, "complete")
		require.Equal(t, "resolved_manually", stepOf(done, "broken").CurrentState)
		after := sys.h.runsOf(task.TaskUUID, "after")
		require.Len(t, after, 1)
		require.JSONEq(t, `null`, string(after[0].Parents["broken"]), "a resolved parent has no result")
	})

	t.Run("complete_manually", func(t *testing.T) {
		t.Parallel()
		task := sys.create("ops", "broken_chain", `{"variant": "complete"}`)
		failed := sys.waitStatus(task.TaskUUID, "error")
		completed, err := sys.cl.CompleteStep(ctx, task.TaskUUID, stepOf(failed, "broken").StepUUID, map[string]int{"value": 42}, "fixed by hand", "ops")
		require.NoError(t, err)
		require.Equal(t, "complete", completed.CurrentState)
		sys.waitStatus(task.TaskUUID, "complete")
		after := sys.h.runsOf(task.TaskUUID, "after")
		require.Len(t, after, 1)
		require.JSONEq(t, `{"value": 42}`, string(after[0].Parents["broken"]), "the dependent sees the operator's result")
	})

	t.Run("complete_manually on retry exhaustion", func(t *testing.T) {
		t.Parallel()
		task := sys.create("acceptance_retry", "retry_exhaustion", `{}`)
		failed := sys.waitStatus(task.TaskUUID, "error")
		always := stepOf(failed, "always_fail")
		require.Equal(t, 3, always.Attempts)
		_, err := sys.cl.CompleteStep(ctx, task.TaskUUID, always.StepUUID, json.RawMessage(`{"result": 3}`), "computed by hand", "ops")
		require.NoError(t, err)
		done := sys.waitStatus(task.TaskUUID, "complete")
		require.JSONEq(t, `{"result": 9}`, string(stepOf(done, "never_runs").Results), "never_runs squared the operator's result")
	})
}

func auditHas(audit []api.AuditEntry, entity, to, event, reason string) bool {
	for _, a := range audit {
		if a.Entity == entity && a.ToState == to && a.Event == event && a.Reason == reason {
			return true
		}
	}
	return false
}

// TestCancelAndPauseMidRun cancels and pauses tasks while a step runs.
func TestCancelAndPauseMidRun(t *testing.T) {
	t.Parallel()
	sys := startOps(t, nil, []string{"gated_chain"})
	ctx := context.Background()

	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		task := sys.create("ops", "gated_chain", `{"run": "cancel"}`)
		sys.waitStarted(task.TaskUUID, "slow")
		cancelled, err := sys.cl.CancelTask(ctx, task.TaskUUID, "customer withdrew", "ops")
		require.NoError(t, err)
		require.Equal(t, "cancelled", cancelled.Status)
		require.Equal(t, "in_progress", stepOf(cancelled, "slow").CurrentState, "the running step is left to finish")
		require.Equal(t, "cancelled", stepOf(cancelled, "dependent").CurrentState)
		require.Equal(t, "cancelled", stepOf(cancelled, "last").CurrentState)

		sys.h.open(task.TaskUUID, "slow")
		finished := sys.waitStep(task.TaskUUID, "slow", "complete")
		require.JSONEq(t, `{"gated": true}`, string(stepOf(finished, "slow").Results), "its result is recorded")
		time.Sleep(300 * time.Millisecond)
		final, err := sys.cl.GetTask(ctx, task.TaskUUID)
		require.NoError(t, err)
		require.Equal(t, "cancelled", final.Status)
		require.Equal(t, "cancelled", stepOf(final, "dependent").CurrentState)
		require.Empty(t, sys.h.runsOf(task.TaskUUID, "dependent"), "dependents never start")
		require.Empty(t, sys.h.runsOf(task.TaskUUID, "last"))
		_, err = sys.cl.ResumeTask(ctx, task.TaskUUID, "")
		requireAPIError(t, err, 409, api.CodeConflict)
	})

	t.Run("pause and resume", func(t *testing.T) {
		t.Parallel()
		task := sys.create("ops", "gated_chain", `{"run": "pause"}`)
		sys.waitStarted(task.TaskUUID, "slow")
		paused, err := sys.cl.PauseTask(ctx, task.TaskUUID, "ops")
		require.NoError(t, err)
		require.True(t, paused.Paused)

		sys.h.open(task.TaskUUID, "slow")
		sys.waitStep(task.TaskUUID, "slow", "complete")
		time.Sleep(500 * time.Millisecond)
		held, err := sys.cl.GetTask(ctx, task.TaskUUID)
		require.NoError(t, err)
		require.True(t, held.Paused)
		require.Equal(t, "steps_in_process", held.Status)
		require.Equal(t, "pending", stepOf(held, "dependent").CurrentState)
		require.True(t, stepOf(held, "dependent").DependenciesSatisfied)
		require.Empty(t, sys.h.runsOf(task.TaskUUID, "dependent"), "no new step starts while paused")

		resumedAt := time.Now()
		resumed, err := sys.cl.ResumeTask(ctx, task.TaskUUID, "ops")
		require.NoError(t, err)
		require.False(t, resumed.Paused)
		sys.waitStatus(task.TaskUUID, "complete")
		dep := sys.h.runsOf(task.TaskUUID, "dependent")
		require.Len(t, dep, 1)
		require.True(t, dep[0].Start.After(resumedAt), "dependent started at %v, before the resume at %v", dep[0].Start, resumedAt)
		last := sys.h.runsOf(task.TaskUUID, "last")
		require.Len(t, last, 1)
		require.False(t, last[0].Start.Before(dep[0].End))
	})
}

// TestDeadLetterQueue: a stale task and a dead-lettered message become DLQ
// entries that an operator reads and resolves through the API.
func TestDeadLetterQueue(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	sys := startOps(t, clock, []string{"hangs"})
	ctx := context.Background()

	task := sys.create("stale", "hangs", `{}`)
	sys.waitStarted(task.TaskUUID, "hang")
	rep, err := sys.st.Engine.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Stale, "not stale yet")

	clock.advance(2 * time.Minute)
	rep, err = sys.st.Engine.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Stale)
	require.Zero(t, rep.Errors)

	failed, err := sys.cl.GetTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, "error", failed.Status, "a stale task fails after its DLQ entry is made")
	list, err := sys.cl.ListDLQ(ctx, client.DLQListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Entries, 1)
	entry := list.Entries[0]
	require.Equal(t, task.TaskUUID, entry.TaskUUID)
	require.Equal(t, "staleness_timeout", entry.DLQReason)
	require.Equal(t, "pending", entry.ResolutionStatus)
	require.Equal(t, "steps_in_process", entry.OriginalState)
	require.Contains(t, entry.Message, "stale: no progress for 2m")
	forTask, err := sys.cl.DLQForTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	require.Len(t, forTask, 1)
	var snap struct {
		State string `json:"state"`
		Steps []struct {
			Name, State string
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(forTask[0].TaskSnapshot, &snap))
	require.Equal(t, "steps_in_process", snap.State)
	require.Equal(t, "hang", snap.Steps[0].Name)
	require.Equal(t, "in_progress", snap.Steps[0].State)
	stats, err := sys.cl.DLQStats(ctx)
	require.NoError(t, err)
	require.Equal(t, api.DLQStats{TotalEntries: 1, Pending: 1}, *stats)

	resolved, err := sys.cl.UpdateDLQEntry(ctx, entry.DLQEntryUUID, api.DLQUpdateRequest{
		ResolutionStatus: api.DLQManuallyResolved, ResolutionNotes: "the hanging dependency was restarted", ResolvedBy: "ops"})
	require.NoError(t, err)
	require.Equal(t, "manually_resolved", resolved.ResolutionStatus)
	require.NotNil(t, resolved.ResolutionTimestamp)
	list, err = sys.cl.ListDLQ(ctx, client.DLQListOptions{})
	require.NoError(t, err)
	require.Empty(t, list.Entries, "nothing pending any more")

	// A message SQS gave up on: put straight into the step queue's DLQ.
	dlq := sys.st.Names.StepQueue("stale") + "-dlq"
	url := sys.st.Provisioned.QueueURLs[dlq]
	require.NotEmpty(t, url, dlq)
	body := `{"v":1,"task_uuid":"` + task.TaskUUID + `","step_name":"hang","attempt":1}`
	for _, b := range []string{body, "not JSON at all"} {
		_, err := sys.st.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
	rep, err = sys.st.Engine.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.DeadLetters)
	require.Zero(t, rep.Errors)
	list, err = sys.cl.ListDLQ(ctx, client.DLQListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Entries, 2)
	byTask := map[string]api.DLQEntry{}
	for _, e := range list.Entries {
		require.Equal(t, "worker_unavailable", e.DLQReason)
		require.Equal(t, dlq, e.Source)
		byTask[e.TaskUUID] = e
	}
	require.Equal(t, body, byTask[task.TaskUUID].Message)
	require.Equal(t, "not JSON at all", byTask[""].Message)
	forTask, err = sys.cl.DLQForTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	require.Len(t, forTask, 2)
	stats, err = sys.cl.DLQStats(ctx)
	require.NoError(t, err)
	require.Equal(t, api.DLQStats{TotalEntries: 3, Pending: 2, ManuallyResolved: 1}, *stats)
}

// TestBadRequestsChangeNothing sends malformed and invalid requests through
// HTTP: each gets a 4xx naming the problem, and nothing changes.
func TestBadRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	sys := startOps(t, nil, []string{"broken_chain"}, "../../templates/acceptance/linear.yaml")
	ctx := context.Background()
	failed := sys.create("ops", "broken_chain", `{"bad": "requests"}`)
	failed = sys.waitStatus(failed.TaskUUID, "error")
	before, err := sys.cl.TaskAudit(ctx, failed.TaskUUID)
	require.NoError(t, err)
	listBefore, err := sys.cl.ListTasks(ctx, client.ListOptions{Limit: 100})
	require.NoError(t, err)
	broken, after := stepOf(failed, "broken"), stepOf(failed, "after")
	stepURL := "/v1/tasks/" + failed.TaskUUID + "/workflow_steps/"

	tests := []struct {
		name, method, path, body string
		status                   int
		code, field, message     string
	}{
		{"malformed JSON", "POST", "/v1/tasks", `{"namespace": "ops", "name": }`, 400, api.CodeInvalidJSON, "", "invalid JSON at line 1, column 30"},
		{"not an object", "POST", "/v1/tasks", `[1, 2]`, 400, api.CodeInvalidRequest, "", "must be a JSON object"},
		{"unknown template", "POST", "/v1/tasks", `{"namespace": "ops", "name": "nope"}`, 404, api.CodeTemplateNotFound, "", "no template is registered as ops/nope"},
		{"schema violation", "POST", "/v1/tasks", `{"namespace": "acceptance_linear", "name": "mathematical_sequence", "context": {"even_number": 1}}`, 400, api.CodeInvalidContext, "/even_number", "must be >= 2"},
		{"oversized body", "POST", "/v1/tasks", `{"namespace": "ops", "name": "broken_chain", "context": {"pad": "` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}}`, 413, api.CodePayloadTooLarge, "", "larger than 1048576 bytes"},
		{"bad task uuid", "GET", "/v1/tasks/not-a-uuid", "", 400, api.CodeInvalidRequest, "task_uuid", `"not-a-uuid" is not a UUID`},
		{"bad cancel uuid", "DELETE", "/v1/tasks/12345", "", 400, api.CodeInvalidRequest, "task_uuid", "is not a UUID"},
		{"bad step uuid", "PATCH", stepURL + "first", `{"action_type": "resolve_manually", "reason": "r", "resolved_by": "o"}`, 400, api.CodeInvalidRequest, "step_uuid", "is not a UUID"},
		{"unknown step", "PATCH", stepURL + uuid.NewString(), `{"action_type": "resolve_manually", "reason": "r", "resolved_by": "o"}`, 404, api.CodeStepNotFound, "step_uuid", "has no step"},
		{"unknown action", "PATCH", stepURL + broken.StepUUID, `{"action_type": "skip", "reason": "r"}`, 400, api.CodeInvalidRequest, "action_type", `unknown action "skip"`},
		{"missing operator", "PATCH", stepURL + broken.StepUUID, `{"action_type": "reset_for_retry", "reason": "r"}`, 400, api.CodeInvalidRequest, "reset_by", "required"},
		{"complete without result", "PATCH", stepURL + broken.StepUUID, `{"action_type": "complete_manually", "reason": "r", "completed_by": "o", "completion_data": {"metadata": {}}}`, 400, api.CodeInvalidRequest, "completion_data.result", "required"},
		{"illegal state", "PATCH", stepURL + after.StepUUID, `{"action_type": "reset_for_retry", "reason": "r", "reset_by": "o"}`, 409, api.CodeInvalidState, "action_type", "step after in state pending cannot reset_for_retry"},
		{"cancel body typo", "DELETE", "/v1/tasks/" + failed.TaskUUID, `{"reason": "x", "cancelled_by": "o", "force": true}`, 400, api.CodeInvalidRequest, "force", `unknown field "force"`},
		{"cancel a failed task", "DELETE", "/v1/tasks/" + failed.TaskUUID, ``, 409, api.CodeConflict, "", "has finished (error)"},
		{"pause a failed task", "POST", "/v1/tasks/" + failed.TaskUUID + "/pause", ``, 409, api.CodeConflict, "", "has finished (error)"},
		{"unknown DLQ status", "GET", "/v1/dlq?resolution_status=open", "", 400, api.CodeInvalidRequest, "resolution_status", "must be one of"},
		{"unknown DLQ entry", "PATCH", "/v1/dlq/entry/" + uuid.NewString(), `{"resolution_status": "cancelled"}`, 404, api.CodeDLQEntryNotFound, "entry_uuid", "no DLQ entry"},
		{"bad list filter", "GET", "/v1/tasks?status=failed", "", 400, api.CodeInvalidRequest, "status", `"failed" is not a task state`},
		{"wrong method", "PUT", "/v1/tasks/" + failed.TaskUUID, "{}", 405, api.CodeMethodNotAllowed, "", "allowed: GET, DELETE"},
	}
	t.Run("requests", func(t *testing.T) { // sequential: each takes milliseconds
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.method, sys.url+tc.path, strings.NewReader(tc.body))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, tc.status, resp.StatusCode, "body: %s", b)
				var e api.ErrorResponse
				require.NoError(t, json.Unmarshal(b, &e), "body: %s", b)
				require.Equal(t, tc.code, e.Error.Code, "body: %s", b)
				require.Equal(t, tc.field, e.Error.Field, "body: %s", b)
				require.Contains(t, e.Error.Message, tc.message)
			})
		}
	})
	// The task and its audit trail are as they were, and no task was created.
	audit, err := sys.cl.TaskAudit(ctx, failed.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, before, audit)
	now, err := sys.cl.GetTask(ctx, failed.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, failed.UpdatedAt, now.UpdatedAt)
	require.Equal(t, failed.Status, now.Status)
	listAfter, err := sys.cl.ListTasks(ctx, client.ListOptions{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, len(listBefore.Tasks), len(listAfter.Tasks))
}

// TestDeadLettersForTaskWithPendingEntry checks that every dead-lettered
// message about a task becomes a DLQ entry, even when the task already has a
// pending (staleness) entry: the one-pending-entry guard applies to
// staleness entries only.
func TestDeadLettersForTaskWithPendingEntry(t *testing.T) {
	t.Parallel()
	sys := startOps(t, &testClock{}, []string{"hangs"})
	ctx := context.Background()
	task := sys.create("stale", "hangs", `{}`)
	url := sys.st.Provisioned.QueueURLs[sys.st.Names.StepQueue("stale")+"-dlq"]
	for range 2 {
		_, err := sys.st.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
			MessageBody: aws.String(`{"task_uuid":"` + task.TaskUUID + `"}`)})
		require.NoError(t, err)
	}
	rep, err := sys.st.Engine.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Errors)
	require.Equal(t, 2, rep.DeadLetters)
	entries, err := sys.cl.DLQForTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	require.Len(t, entries, 2)
}

package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/dynamo"
)

func stepByName(t *testing.T, task *api.TaskResponse, name string) api.StepResponse {
	t.Helper()
	for _, s := range task.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s", name)
	return api.StepResponse{}
}

func requireCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, status, apiErr.Status, apiErr.Error())
	require.Equal(t, code, apiErr.Code, apiErr.Error())
}

// TestTaskOperations drives cancel, pause, resume and the step actions
// against the real API (no workers run: the tests move the steps by hand).
func TestTaskOperations(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	c := client.New(srv.URL)
	ctx := context.Background()

	doomed, err := c.CreateTask(ctx, linearRequest(2))
	require.NoError(t, err)
	cancelled, err := c.CancelTask(ctx, doomed.TaskUUID, "wrong input", "ops")
	require.NoError(t, err)
	require.Equal(t, "cancelled", cancelled.Status)
	_, err = c.PauseTask(ctx, doomed.TaskUUID, "")
	requireCode(t, err, 409, api.CodeConflict)
	_, err = c.CancelTask(ctx, uuid.NewString(), "", "")
	requireCode(t, err, 404, api.CodeTaskNotFound)

	task, err := c.CreateTask(ctx, linearRequest(4))
	require.NoError(t, err)
	paused, err := c.PauseTask(ctx, task.TaskUUID, "ops")
	require.NoError(t, err)
	require.True(t, paused.Paused)
	resumed, err := c.ResumeTask(ctx, task.TaskUUID, "")
	require.NoError(t, err)
	require.False(t, resumed.Paused)

	s1 := stepByName(t, resumed, "linear_step_1")
	_, err = c.ResetStep(ctx, task.TaskUUID, s1.StepUUID, "retry", "ops")
	requireCode(t, err, 409, api.CodeInvalidState)
	_, err = c.ResolveStep(ctx, task.TaskUUID, s1.StepUUID, "", "ops")
	requireCode(t, err, 400, api.CodeInvalidRequest)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "reason", apiErr.Field)

	done, err := c.CompleteStep(ctx, task.TaskUUID, s1.StepUUID, map[string]int{"result": 16}, "by hand", "ops")
	require.NoError(t, err)
	require.Equal(t, "complete", done.CurrentState)
	require.JSONEq(t, `{"result": 16}`, string(done.Results))

	got, err := c.GetTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	s2 := stepByName(t, got, "linear_step_2")
	resolved, err := c.ResolveStep(ctx, task.TaskUUID, s2.StepUUID, "skip", "ops")
	require.NoError(t, err)
	require.Equal(t, "resolved_manually", resolved.CurrentState)
	for _, name := range []string{"linear_step_3", "linear_step_4"} {
		_, err := c.CompleteStep(ctx, task.TaskUUID, stepByName(t, got, name).StepUUID, json.RawMessage(`{"result": 1}`), "by hand", "ops")
		require.NoError(t, err)
	}
	final, err := c.GetTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, "complete", final.Status)

	list, err := c.ListTasks(ctx, client.ListOptions{Status: "complete"})
	require.NoError(t, err)
	require.Len(t, list.Tasks, 1)
	require.Equal(t, task.TaskUUID, list.Tasks[0].TaskUUID)
	list, err = c.ListTasks(ctx, client.ListOptions{Namespace: "acceptance_linear", Status: "cancelled", Initiator: "system", SourceSystem: "api"})
	require.NoError(t, err)
	require.Len(t, list.Tasks, 1)
	require.Equal(t, doomed.TaskUUID, list.Tasks[0].TaskUUID)
}

func TestDLQ(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	c := client.New(srv.URL)
	ctx := context.Background()
	task, err := c.CreateTask(ctx, linearRequest(6))
	require.NoError(t, err)
	now := time.Now().UTC()
	entry := &dynamo.DLQEntry{UUID: uuid.NewString(), TaskUUID: task.TaskUUID, Reason: dynamo.DLQReasonStaleness,
		ResolutionStatus: dynamo.DLQPending, Snapshot: json.RawMessage(`{"state":"steps_in_process"}`), CreatedAt: now, UpdatedAt: now}
	require.NoError(t, srv.Engine.Store().PutDLQEntry(ctx, entry))

	list, err := c.ListDLQ(ctx, client.DLQListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Entries, 1)
	require.Equal(t, "steps_in_process", list.Entries[0].OriginalState)
	forTask, err := c.DLQForTask(ctx, task.TaskUUID)
	require.NoError(t, err)
	require.Len(t, forTask, 1)
	require.JSONEq(t, `{"state":"steps_in_process"}`, string(forTask[0].TaskSnapshot))
	one, err := c.GetDLQEntry(ctx, entry.UUID)
	require.NoError(t, err)
	require.Equal(t, entry.UUID, one.DLQEntryUUID)

	updated, err := c.UpdateDLQEntry(ctx, entry.UUID, api.DLQUpdateRequest{ResolutionStatus: api.DLQPermanentlyFailed, ResolutionNotes: "bad data", ResolvedBy: "ops"})
	require.NoError(t, err)
	require.Equal(t, api.DLQPermanentlyFailed, updated.ResolutionStatus)
	stats, err := c.DLQStats(ctx)
	require.NoError(t, err)
	require.Equal(t, api.DLQStats{TotalEntries: 1, PermanentlyFailed: 1}, *stats)
	list, err = c.ListDLQ(ctx, client.DLQListOptions{Status: api.DLQPermanentlyFailed, Limit: 5})
	require.NoError(t, err)
	require.Len(t, list.Entries, 1)

	_, err = c.GetDLQEntry(ctx, uuid.NewString())
	requireCode(t, err, 404, api.CodeDLQEntryNotFound)
	_, err = c.ListDLQ(ctx, client.DLQListOptions{Status: "open"})
	requireCode(t, err, 400, api.CodeInvalidRequest)
}

// TestOperationRequests checks the requests the operation methods send.
func TestOperationRequests(t *testing.T) {
	t.Parallel()
	type seen struct{ method, path, query, body string }
	var (
		mu   sync.Mutex
		reqs []seen
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/dlq/task/t1":
			_, _ = w.Write([]byte(`[]`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL)
	ctx := context.Background()
	_, err := c.CancelTask(ctx, "t1", "", "")
	require.NoError(t, err)
	_, err = c.CancelTask(ctx, "t1", "why", "me")
	require.NoError(t, err)
	_, err = c.PauseTask(ctx, "t1", "")
	require.NoError(t, err)
	_, err = c.ResumeTask(ctx, "t1", "me")
	require.NoError(t, err)
	_, err = c.ResetStep(ctx, "t1", "s1", "r", "me")
	require.NoError(t, err)
	_, err = c.CompleteStep(ctx, "t1", "s1", map[string]any{"ok": true}, "r", "me")
	require.NoError(t, err)
	_, err = c.CompleteStep(ctx, "t1", "s1", func() {}, "r", "me")
	require.ErrorContains(t, err, "encode result")
	_, err = c.ListTasks(ctx, client.ListOptions{Status: "error", Initiator: "a b"})
	require.NoError(t, err)
	_, err = c.ListDLQ(ctx, client.DLQListOptions{Status: "cancelled", Limit: 3, Cursor: "c"})
	require.NoError(t, err)
	_, err = c.DLQForTask(ctx, "t1")
	require.NoError(t, err)
	_, err = c.UpdateDLQEntry(ctx, "e1", api.DLQUpdateRequest{ResolutionStatus: "cancelled"})
	require.NoError(t, err)
	_, err = c.DLQStats(ctx)
	require.NoError(t, err)

	require.Equal(t, []seen{
		{"DELETE", "/v1/tasks/t1", "", ""},
		{"DELETE", "/v1/tasks/t1", "", `{"reason":"why","cancelled_by":"me"}`},
		{"POST", "/v1/tasks/t1/pause", "", ""},
		{"POST", "/v1/tasks/t1/resume", "", `{"resumed_by":"me"}`},
		{"PATCH", "/v1/tasks/t1/workflow_steps/s1", "", `{"action_type":"reset_for_retry","reason":"r","reset_by":"me"}`},
		{"PATCH", "/v1/tasks/t1/workflow_steps/s1", "", `{"action_type":"complete_manually","reason":"r","completed_by":"me","completion_data":{"result":{"ok":true}}}`},
		{"GET", "/v1/tasks", "initiator=a+b&status=error", ""},
		{"GET", "/v1/dlq", "cursor=c&limit=3&resolution_status=cancelled", ""},
		{"GET", "/v1/dlq/task/t1", "", ""},
		{"PATCH", "/v1/dlq/entry/e1", "", `{"resolution_status":"cancelled"}`},
		{"GET", "/v1/dlq/stats", "", ""},
	}, reqs)
	require.False(t, errors.Is(err, context.Canceled))
}

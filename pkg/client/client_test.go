package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/engine"
)

const linearTemplate = "../../templates/acceptance/linear.yaml"

func linearRequest(even int) engine.TaskRequest {
	return engine.TaskRequest{Namespace: "acceptance_linear", Name: "mathematical_sequence",
		Context: json.RawMessage(`{"even_number":` + itoaJSON(even) + `}`), Tags: []string{"client"}}
}

func itoaJSON(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestRoundTrip drives every read against the real API over a real engine.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	c := client.New(srv.URL)
	ctx := context.Background()

	created, err := c.CreateTask(ctx, linearRequest(6))
	require.NoError(t, err)
	require.Equal(t, "steps_in_process", created.Status)
	require.Equal(t, []string{"client"}, created.Tags)

	got, err := c.GetTask(ctx, created.TaskUUID)
	require.NoError(t, err)
	require.Len(t, got.Steps, 4)

	steps, err := c.ListSteps(ctx, created.TaskUUID)
	require.NoError(t, err)
	require.Len(t, steps, 4)
	require.Equal(t, "enqueued", steps[0].CurrentState)

	step, err := c.GetStep(ctx, created.TaskUUID, steps[1].StepUUID)
	require.NoError(t, err)
	require.Equal(t, "linear_step_2", step.Name)

	stepAudit, err := c.StepAudit(ctx, created.TaskUUID, steps[0].StepUUID)
	require.NoError(t, err)
	require.Equal(t, "enqueued", stepAudit[len(stepAudit)-1].ToState)

	audit, err := c.TaskAudit(ctx, created.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, "task", audit[0].Entity)

	page, err := c.ListTasks(ctx, client.ListOptions{Namespace: "acceptance_linear", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Tasks, 1)
	require.False(t, page.Pagination.HasNext)

	templates, err := c.ListTemplates(ctx)
	require.NoError(t, err)
	require.Len(t, templates, 1)
	require.Equal(t, 4, templates[0].StepCount)

	tpl, err := c.GetTemplate(ctx, "acceptance_linear", "mathematical_sequence", "1.0.0")
	require.NoError(t, err)
	require.Contains(t, string(tpl), `"namespace_name":"acceptance_linear"`)

	health, err := c.Health(ctx)
	require.NoError(t, err)
	require.Equal(t, "healthy", health.Status)
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	c := client.New(srv.URL)
	ctx := context.Background()

	_, err := c.CreateTask(ctx, linearRequest(6))
	require.NoError(t, err)
	_, err = c.CreateTask(ctx, linearRequest(6))
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusConflict, apiErr.Status)
	require.Equal(t, api.CodeDuplicateTask, apiErr.Code)
	require.NotEmpty(t, apiErr.RequestID)

	_, err = c.CreateTask(ctx, linearRequest(1))
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, api.CodeInvalidContext, apiErr.Code)
	require.Equal(t, "/even_number", apiErr.Field)
	require.Contains(t, err.Error(), "invalid_context: ")
	require.Contains(t, err.Error(), "(field: /even_number)")

	_, err = c.GetTask(ctx, uuid.NewString())
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.Status)
	require.Equal(t, api.CodeTaskNotFound, apiErr.Code)

	_, err = c.ListTasks(ctx, client.ListOptions{Status: "running"})
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "status", apiErr.Field)
}

func TestHeadersAndNonEnvelopeErrors(t *testing.T) {
	t.Parallel()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>upstream unavailable</html>"))
	}))
	t.Cleanup(srv.Close)

	c := client.New(srv.URL+"/", client.WithAPIKey("k1"), client.WithBearerToken("tok"))
	_, err := c.ListTemplates(context.Background())
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "http_502", apiErr.Code)
	require.Contains(t, apiErr.Message, "upstream unavailable")
	require.Equal(t, "k1", got.Get("X-API-Key"))
	require.Equal(t, "Bearer tok", got.Get("Authorization"))
	require.Equal(t, "application/json", got.Get("Accept"))

	_, err = client.New("not a url").Health(context.Background())
	require.ErrorContains(t, err, "invalid base URL")
}

func TestBaseURLWithStagePath(t *testing.T) {
	t.Parallel()
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.RequestURI()
		_ = json.NewEncoder(w).Encode(api.TaskList{Tasks: []api.TaskResponse{}})
	}))
	t.Cleanup(srv.Close)
	_, err := client.New(srv.URL+"/prod").ListTasks(context.Background(), client.ListOptions{Namespace: "a b", Limit: 5, Cursor: "x"})
	require.NoError(t, err)
	require.Equal(t, "/prod/v1/tasks?cursor=x&limit=5&namespace=a+b", path)
}

func TestWaitForTask(t *testing.T) {
	t.Parallel()
	t.Run("polls through transient failures until terminal", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := calls.Add(1)
			switch {
			case n == 2:
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorDetail{Code: "internal", Message: "busy"}})
			case n < 4:
				_ = json.NewEncoder(w).Encode(api.TaskResponse{TaskUUID: "t", Status: "steps_in_process"})
			default:
				_ = json.NewEncoder(w).Encode(api.TaskResponse{TaskUUID: "t", Status: "error"})
			}
		}))
		t.Cleanup(srv.Close)
		task, err := client.New(srv.URL).WaitForTask(context.Background(), "t", time.Millisecond)
		require.NoError(t, err)
		require.Equal(t, "error", task.Status)
		require.EqualValues(t, 4, calls.Load())
	})
	t.Run("returns the last task when the context ends", func(t *testing.T) {
		t.Parallel()
		srv := apitest.New(t, linearTemplate)
		c := client.New(srv.URL)
		created, err := c.CreateTask(context.Background(), linearRequest(8))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		last, err := c.WaitForTask(ctx, created.TaskUUID, 20*time.Millisecond)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotNil(t, last, "no worker runs the steps, so the task is still in process")
		require.Equal(t, "steps_in_process", last.Status)
	})
	t.Run("a 404 ends the wait", func(t *testing.T) {
		t.Parallel()
		srv := apitest.New(t, linearTemplate)
		_, err := client.New(srv.URL).WaitForTask(context.Background(), uuid.NewString(), time.Millisecond)
		var apiErr *client.APIError
		require.True(t, errors.As(err, &apiErr))
		require.Equal(t, 404, apiErr.Status)
	})
}

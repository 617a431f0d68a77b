package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/dynamo"
)

func stepNamed(t *testing.T, task api.TaskResponse, name string) api.StepResponse {
	t.Helper()
	for _, s := range task.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("task %s has no step %s", task.TaskUUID, name)
	return api.StepResponse{}
}

func getTask(t *testing.T, h *api.Handler, id string) api.TaskResponse {
	t.Helper()
	return decode[api.TaskResponse](t, do(t, h, "GET", "/v1/tasks/"+id, ""), 200)
}

func TestListTasksFilters(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	h := srv.Handler
	alice1 := decode[api.TaskResponse](t, do(t, h, "POST", "/v1/tasks", createBody(2, `"initiator":"alice","source_system":"billing"`)), 201)
	alice2 := decode[api.TaskResponse](t, do(t, h, "POST", "/v1/tasks", createBody(4, `"initiator":"alice","source_system":"billing"`)), 201)
	other := createTask(t, h, 6)
	decode[api.TaskResponse](t, do(t, h, "DELETE", "/v1/tasks/"+alice2.TaskUUID, ""), 200)

	// all follows the cursor and returns the tasks' UUIDs.
	all := func(query string) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for {
			target := "/v1/tasks?" + query
			if cursor != "" {
				target += "&cursor=" + cursor
			}
			page := decode[api.TaskList](t, do(t, h, "GET", target, ""), 200)
			for _, task := range page.Tasks {
				ids = append(ids, task.TaskUUID)
			}
			if !page.Pagination.HasNext {
				return ids
			}
			cursor = page.Pagination.NextCursor
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"limit=100", []string{alice1.TaskUUID, alice2.TaskUUID, other.TaskUUID}},
		{"initiator=alice", []string{alice1.TaskUUID, alice2.TaskUUID}},
		{"initiator=alice&status=cancelled", []string{alice2.TaskUUID}},
		{"namespace=" + linearNS + "&source_system=billing&limit=1", []string{alice1.TaskUUID, alice2.TaskUUID}},
		{"namespace=" + linearNS + "&status=steps_in_process&limit=1", []string{alice1.TaskUUID, other.TaskUUID}},
		{"source_system=api", []string{other.TaskUUID}},
		{"status=complete", nil},
		{"namespace=other&initiator=alice", nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			require.ElementsMatch(t, tc.want, all(tc.query))
		})
	}
}

func TestCancelTask(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	h := srv.Handler
	created := createTask(t, h, 8)
	target := "/v1/tasks/" + created.TaskUUID

	bad := []struct {
		name, target, body string
		status             int
		code, field        string
	}{
		{"unknown task", "/v1/tasks/" + uuid.NewString(), "", 404, api.CodeTaskNotFound, "task_uuid"},
		{"bad uuid", "/v1/tasks/nope", "", 400, api.CodeInvalidRequest, "task_uuid"},
		{"unknown field", target, `{"why": "x"}`, 400, api.CodeInvalidRequest, "why"},
		{"malformed JSON", target, `{"reason": }`, 400, api.CodeInvalidJSON, ""},
		{"reason too long", target, `{"reason": "` + strings.Repeat("x", 501) + `"}`, 400, api.CodeInvalidRequest, "reason"},
		{"cancelled_by too long", target, `{"cancelled_by": "` + strings.Repeat("x", 256) + `"}`, 400, api.CodeInvalidRequest, "cancelled_by"},
	}
	for _, tc := range bad {
		e := errorOf(t, do(t, h, "DELETE", tc.target, tc.body), tc.status, tc.code)
		require.Equal(t, tc.field, e.Field, tc.name)
	}
	require.Equal(t, "steps_in_process", getTask(t, h, created.TaskUUID).Status, "bad requests change nothing")

	cancelled := decode[api.TaskResponse](t, do(t, h, "DELETE", target, `{"reason": "not needed", "cancelled_by": "ops@example.com"}`), 200)
	require.Equal(t, "cancelled", cancelled.Status)
	require.NotNil(t, cancelled.CompletedAt)
	require.Len(t, cancelled.Steps, 4)
	for _, s := range cancelled.Steps {
		require.Equal(t, "cancelled", s.CurrentState, s.Name)
	}
	audit := decode[[]api.AuditEntry](t, do(t, h, "GET", target+"/audit", ""), 200)
	require.True(t, hasAudit(audit, "task", "cancelled", "not needed (by ops@example.com)"), "audit: %+v", audit)

	again := decode[api.TaskResponse](t, do(t, h, "DELETE", target, ""), 200)
	require.Equal(t, "cancelled", again.Status, "cancelling a cancelled task is a no-op")

	for _, path := range []string{"/pause", "/resume"} {
		e := errorOf(t, do(t, h, "POST", target+path, ""), 409, api.CodeConflict)
		require.Contains(t, e.Message, "has finished (cancelled)")
	}
	step := stepNamed(t, cancelled, "linear_step_2")
	e := errorOf(t, do(t, h, "PATCH", target+"/workflow_steps/"+step.StepUUID,
		`{"action_type": "resolve_manually", "reason": "r", "resolved_by": "ops"}`), 409, api.CodeConflict)
	require.Contains(t, e.Message, "has finished (cancelled)")
}

func hasAudit(audit []api.AuditEntry, entity, to, reason string) bool {
	for _, a := range audit {
		if a.Entity == entity && a.ToState == to && a.Reason == reason {
			return true
		}
	}
	return false
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	h := srv.Handler
	created := createTask(t, h, 10)
	target := "/v1/tasks/" + created.TaskUUID

	errorOf(t, do(t, h, "POST", target+"/pause", `{"by": "ops"}`), 400, api.CodeInvalidRequest)
	errorOf(t, do(t, h, "POST", "/v1/tasks/"+uuid.NewString()+"/pause", ""), 404, api.CodeTaskNotFound)
	errorOf(t, do(t, h, "POST", "/v1/tasks/"+uuid.NewString()+"/resume", ""), 404, api.CodeTaskNotFound)
	require.False(t, getTask(t, h, created.TaskUUID).Paused)

	paused := decode[api.TaskResponse](t, do(t, h, "POST", target+"/pause", `{"paused_by": "ops"}`), 200)
	require.True(t, paused.Paused)
	require.Equal(t, "steps_in_process", paused.Status)
	first := stepNamed(t, paused, "linear_step_1")
	require.Equal(t, "waiting_for_retry", first.CurrentState, "an enqueued step goes back to waiting")
	stepAudit := decode[[]api.AuditEntry](t, do(t, h, "GET", target+"/workflow_steps/"+first.StepUUID+"/audit", ""), 200)
	require.True(t, hasAudit(stepAudit, "linear_step_1", "waiting_for_retry", "task paused (by ops)"), "audit: %+v", stepAudit)

	require.True(t, decode[api.TaskResponse](t, do(t, h, "POST", target+"/pause", ""), 200).Paused, "pausing twice is harmless")

	resumed := decode[api.TaskResponse](t, do(t, h, "POST", target+"/resume", `{"resumed_by": "ops"}`), 200)
	require.False(t, resumed.Paused)
	require.Equal(t, "enqueued", stepNamed(t, resumed, "linear_step_1").CurrentState, "resuming re-drives the task")
	require.Equal(t, 0, stepNamed(t, resumed, "linear_step_1").Attempts)
}

func TestStepActions(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	h := srv.Handler
	created := createTask(t, h, 6)
	task := "/v1/tasks/" + created.TaskUUID
	s1 := stepNamed(t, created, "linear_step_1")
	step1 := task + "/workflow_steps/" + s1.StepUUID
	auditBefore := decode[[]api.AuditEntry](t, do(t, h, "GET", task+"/audit", ""), 200)

	bad := []struct {
		name, body  string
		code, field string
	}{
		{"no body", "", api.CodeInvalidRequest, ""},
		{"empty object", `{}`, api.CodeInvalidRequest, "action_type"},
		{"unknown action", `{"action_type": "retry", "reason": "r", "reset_by": "ops"}`, api.CodeInvalidRequest, "action_type"},
		{"malformed JSON", `{"action_type": "reset_for_retry",}`, api.CodeInvalidJSON, ""},
		{"unknown field", `{"action_type": "reset_for_retry", "reason": "r", "reset_by": "ops", "force": true}`, api.CodeInvalidRequest, "force"},
		{"missing reason", `{"action_type": "reset_for_retry", "reset_by": "ops"}`, api.CodeInvalidRequest, "reason"},
		{"reason too long", `{"action_type": "reset_for_retry", "reset_by": "ops", "reason": "` + strings.Repeat("é", 501) + `"}`, api.CodeInvalidRequest, "reason"},
		{"missing reset_by", `{"action_type": "reset_for_retry", "reason": "r"}`, api.CodeInvalidRequest, "reset_by"},
		{"another action's operator", `{"action_type": "reset_for_retry", "reason": "r", "reset_by": "ops", "completed_by": "ops"}`, api.CodeInvalidRequest, "completed_by"},
		{"missing resolved_by", `{"action_type": "resolve_manually", "reason": "r", "reset_by": "ops"}`, api.CodeInvalidRequest, "reset_by"},
		{"completion data on resolve", `{"action_type": "resolve_manually", "reason": "r", "resolved_by": "ops", "completion_data": {"result": 1}}`, api.CodeInvalidRequest, "completion_data"},
		{"complete without data", `{"action_type": "complete_manually", "reason": "r", "completed_by": "ops"}`, api.CodeInvalidRequest, "completion_data"},
		{"complete without result", `{"action_type": "complete_manually", "reason": "r", "completed_by": "ops", "completion_data": {}}`, api.CodeInvalidRequest, "completion_data.result"},
		{"complete with null result", `{"action_type": "complete_manually", "reason": "r", "completed_by": "ops", "completion_data": {"result": null}}`, api.CodeInvalidRequest, "completion_data.result"},
		{"metadata not an object", `{"action_type": "complete_manually", "reason": "r", "completed_by": "ops", "completion_data": {"result": {}, "metadata": [1]}}`, api.CodeInvalidRequest, "completion_data.metadata"},
		{"result field typo", `{"action_type": "complete_manually", "reason": "r", "completed_by": "ops", "completion_data": {"results": {}}}`, api.CodeInvalidRequest, "results"},
	}
	for _, tc := range bad {
		e := errorOf(t, do(t, h, "PATCH", step1, tc.body), 400, tc.code)
		require.Equal(t, tc.field, e.Field, tc.name)
	}
	reset := `{"action_type": "reset_for_retry", "reason": "r", "reset_by": "ops"}`
	e := errorOf(t, do(t, h, "PATCH", step1, reset), 409, api.CodeInvalidState)
	require.Equal(t, "step linear_step_1 in state enqueued cannot reset_for_retry", e.Message)
	errorOf(t, do(t, h, "PATCH", task+"/workflow_steps/"+uuid.NewString(), reset), 404, api.CodeStepNotFound)
	errorOf(t, do(t, h, "PATCH", "/v1/tasks/"+uuid.NewString()+"/workflow_steps/"+s1.StepUUID, reset), 404, api.CodeTaskNotFound)
	errorOf(t, do(t, h, "PATCH", task+"/workflow_steps/step-1", reset), 400, api.CodeInvalidRequest)

	auditAfter := decode[[]api.AuditEntry](t, do(t, h, "GET", task+"/audit", ""), 200)
	require.Equal(t, auditBefore, auditAfter, "rejected actions change nothing")

	done := decode[api.StepResponse](t, do(t, h, "PATCH", step1,
		`{"action_type": "complete_manually", "reason": "checked by hand", "completed_by": "ops",
		  "completion_data": {"result": {"result": 36}, "metadata": {"ticket": "T-1"}}}`), 200)
	require.Equal(t, "complete", done.CurrentState)
	require.JSONEq(t, `{"result": 36}`, string(done.Results))
	stepAudit := decode[[]api.AuditEntry](t, do(t, h, "GET", step1+"/audit", ""), 200)
	last := stepAudit[len(stepAudit)-1]
	require.Equal(t, "complete_manually", last.Event)
	require.Equal(t, "checked by hand (by ops)", last.Reason)

	after := getTask(t, h, created.TaskUUID)
	require.Equal(t, "enqueued", stepNamed(t, after, "linear_step_2").CurrentState, "the dependent is enqueued")

	resolved := decode[api.StepResponse](t, do(t, h, "PATCH", task+"/workflow_steps/"+stepNamed(t, after, "linear_step_2").StepUUID,
		`{"action_type": "resolve_manually", "reason": "skip", "resolved_by": "ops"}`), 200)
	require.Equal(t, "resolved_manually", resolved.CurrentState)
	for _, name := range []string{"linear_step_3", "linear_step_4"} {
		s := stepNamed(t, getTask(t, h, created.TaskUUID), name)
		decode[api.StepResponse](t, do(t, h, "PATCH", task+"/workflow_steps/"+s.StepUUID,
			`{"action_type": "complete_manually", "reason": "r", "completed_by": "ops", "completion_data": {"result": {"result": 1}}}`), 200)
	}
	final := getTask(t, h, created.TaskUUID)
	require.Equal(t, "complete", final.Status)
	e = errorOf(t, do(t, h, "PATCH", step1, `{"action_type": "resolve_manually", "reason": "r", "resolved_by": "ops"}`), 409, api.CodeConflict)
	require.Contains(t, e.Message, "has finished (complete)")
}

func TestDLQRoutes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	h := srv.Handler
	store := srv.Engine.Store()
	ctx := context.Background()
	task := createTask(t, h, 12)
	quiet := createTask(t, h, 14)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	stale := &dynamo.DLQEntry{UUID: uuid.NewString(), TaskUUID: task.TaskUUID, Reason: dynamo.DLQReasonStaleness,
		ResolutionStatus: dynamo.DLQPending, Snapshot: json.RawMessage(`{"state":"steps_in_process","steps":[]}`),
		Message: "stale: no progress for 31m0s in steps_in_process", CreatedAt: t0, UpdatedAt: t0}
	redrive := &dynamo.DLQEntry{UUID: uuid.NewString(), Reason: dynamo.DLQReasonSQSRedrive, ResolutionStatus: dynamo.DLQPending,
		Source: "x-results-dlq", Message: strings.Repeat("m", 1000), CreatedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second)}
	old := &dynamo.DLQEntry{UUID: uuid.NewString(), TaskUUID: task.TaskUUID, Reason: dynamo.DLQReasonStaleness,
		ResolutionStatus: dynamo.DLQCancelled, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour)}
	for _, e := range []*dynamo.DLQEntry{stale, redrive, old} {
		require.NoError(t, store.PutDLQEntry(ctx, e))
	}

	list := decode[api.DLQList](t, do(t, h, "GET", "/v1/dlq", ""), 200)
	require.Len(t, list.Entries, 2)
	require.Equal(t, []string{redrive.UUID, stale.UUID}, []string{list.Entries[0].DLQEntryUUID, list.Entries[1].DLQEntryUUID}, "newest first")
	require.True(t, list.Entries[0].DetailsOmitted)
	require.Len(t, list.Entries[0].Message, api.MaxListedMessage)
	require.Nil(t, list.Entries[1].TaskSnapshot, "listings leave snapshots out")
	require.Equal(t, "steps_in_process", list.Entries[1].OriginalState)
	require.Equal(t, "staleness_timeout", list.Entries[1].DLQReason)

	page := decode[api.DLQList](t, do(t, h, "GET", "/v1/dlq?resolution_status=pending&limit=1", ""), 200)
	require.Len(t, page.Entries, 1)
	require.True(t, page.Pagination.HasNext)
	next := decode[api.DLQList](t, do(t, h, "GET", "/v1/dlq?resolution_status=pending&limit=1&cursor="+page.Pagination.NextCursor, ""), 200)
	require.Equal(t, stale.UUID, next.Entries[0].DLQEntryUUID)
	cancelled := decode[api.DLQList](t, do(t, h, "GET", "/v1/dlq?resolution_status=cancelled", ""), 200)
	require.Len(t, cancelled.Entries, 1)

	forTask := decode[[]api.DLQEntry](t, do(t, h, "GET", "/v1/dlq/task/"+task.TaskUUID, ""), 200)
	require.Len(t, forTask, 2)
	require.Equal(t, stale.UUID, forTask[0].DLQEntryUUID, "newest first")
	require.JSONEq(t, string(stale.Snapshot), string(forTask[0].TaskSnapshot))
	require.Empty(t, decode[[]api.DLQEntry](t, do(t, h, "GET", "/v1/dlq/task/"+quiet.TaskUUID, ""), 200))

	full := decode[api.DLQEntry](t, do(t, h, "GET", "/v1/dlq/entry/"+redrive.UUID, ""), 200)
	require.Len(t, full.Message, 1000)
	require.False(t, full.DetailsOmitted)
	require.Equal(t, "x-results-dlq", full.Source)

	stats := decode[api.DLQStats](t, do(t, h, "GET", "/v1/dlq/stats", ""), 200)
	require.Equal(t, api.DLQStats{TotalEntries: 3, Pending: 2, Cancelled: 1}, stats)

	entry := "/v1/dlq/entry/" + stale.UUID
	bad := []struct {
		name, method, target, body string
		status                     int
		code, field                string
	}{
		{"unknown status", "GET", "/v1/dlq?resolution_status=open", "", 400, api.CodeInvalidRequest, "resolution_status"},
		{"limit", "GET", "/v1/dlq?limit=0", "", 400, api.CodeInvalidRequest, "limit"},
		{"garbage cursor", "GET", "/v1/dlq?cursor=abc", "", 400, api.CodeInvalidRequest, "cursor"},
		{"cursor of another status", "GET", "/v1/dlq?resolution_status=cancelled&cursor=" + page.Pagination.NextCursor, "", 400, api.CodeInvalidRequest, "cursor"},
		{"unknown task", "GET", "/v1/dlq/task/" + uuid.NewString(), "", 404, api.CodeTaskNotFound, "task_uuid"},
		{"bad task uuid", "GET", "/v1/dlq/task/x", "", 400, api.CodeInvalidRequest, "task_uuid"},
		{"unknown entry", "GET", "/v1/dlq/entry/" + uuid.NewString(), "", 404, api.CodeDLQEntryNotFound, "entry_uuid"},
		{"update unknown entry", "PATCH", "/v1/dlq/entry/" + uuid.NewString(), `{"resolution_status": "cancelled"}`, 404, api.CodeDLQEntryNotFound, "entry_uuid"},
		{"bad entry uuid", "PATCH", "/v1/dlq/entry/x", `{"resolution_status": "cancelled"}`, 400, api.CodeInvalidRequest, "entry_uuid"},
		{"no status", "PATCH", entry, `{"resolution_notes": "n"}`, 400, api.CodeInvalidRequest, "resolution_status"},
		{"bad status", "PATCH", entry, `{"resolution_status": "resolved"}`, 400, api.CodeInvalidRequest, "resolution_status"},
		{"long notes", "PATCH", entry, `{"resolution_status": "cancelled", "resolution_notes": "` + strings.Repeat("n", 2001) + `"}`, 400, api.CodeInvalidRequest, "resolution_notes"},
		{"metadata not an object", "PATCH", entry, `{"resolution_status": "cancelled", "metadata": "x"}`, 400, api.CodeInvalidRequest, "metadata"},
		{"unknown field", "PATCH", entry, `{"resolution_status": "cancelled", "status": "x"}`, 400, api.CodeInvalidRequest, "status"},
		{"no body", "PATCH", entry, ``, 400, api.CodeInvalidRequest, ""},
	}
	for _, tc := range bad {
		e := errorOf(t, do(t, h, tc.method, tc.target, tc.body), tc.status, tc.code)
		require.Equal(t, tc.field, e.Field, tc.name)
	}
	require.Equal(t, stats, decode[api.DLQStats](t, do(t, h, "GET", "/v1/dlq/stats", ""), 200), "bad requests change nothing")

	updated := decode[api.DLQEntry](t, do(t, h, "PATCH", entry,
		`{"resolution_status": "manually_resolved", "resolution_notes": "reset the step", "resolved_by": "ops", "metadata": {"ticket": "T-2"}}`), 200)
	require.Equal(t, "manually_resolved", updated.ResolutionStatus)
	require.Equal(t, "reset the step", updated.ResolutionNotes)
	require.Equal(t, "ops", updated.ResolvedBy)
	require.NotNil(t, updated.ResolutionTimestamp)
	require.JSONEq(t, string(stale.Snapshot), string(updated.TaskSnapshot))
	require.Equal(t, api.DLQStats{TotalEntries: 3, Pending: 1, ManuallyResolved: 1, Cancelled: 1},
		decode[api.DLQStats](t, do(t, h, "GET", "/v1/dlq/stats", ""), 200))
}

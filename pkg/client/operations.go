package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tasker-go/tasker/pkg/api"
)

// CancelTask cancels a task (DELETE /v1/tasks/{uuid}): steps that have not
// started are cancelled, running steps finish. reason and by are recorded in
// the audit trail and may be empty. Cancelling a cancelled task returns it
// unchanged; a task that finished otherwise is an *APIError of code
// api.CodeConflict (409).
func (c *Client) CancelTask(ctx context.Context, taskUUID, reason, by string) (*api.TaskResponse, error) {
	var body any
	if reason != "" || by != "" {
		body = api.CancelRequest{Reason: reason, CancelledBy: by}
	}
	var out api.TaskResponse
	if err := c.do(ctx, http.MethodDelete, taskPath(taskUUID), nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PauseTask pauses a task (POST /v1/tasks/{uuid}/pause): no new step
// starts until ResumeTask; running steps finish. by may be empty. A finished
// task is an *APIError of code api.CodeConflict.
func (c *Client) PauseTask(ctx context.Context, taskUUID, by string) (*api.TaskResponse, error) {
	var body any
	if by != "" {
		body = api.PauseRequest{PausedBy: by}
	}
	var out api.TaskResponse
	if err := c.do(ctx, http.MethodPost, taskPath(taskUUID)+"/pause", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResumeTask resumes a paused task (POST /v1/tasks/{uuid}/resume): every
// step that is ready is enqueued. by may be empty.
func (c *Client) ResumeTask(ctx context.Context, taskUUID, by string) (*api.TaskResponse, error) {
	var body any
	if by != "" {
		body = api.ResumeRequest{ResumedBy: by}
	}
	var out api.TaskResponse
	if err := c.do(ctx, http.MethodPost, taskPath(taskUUID)+"/resume", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StepAction applies a manual action to a step
// (PATCH /v1/tasks/{uuid}/workflow_steps/{step_uuid}) and returns the step
// afterwards; the API then re-drives the task. An action the step's state
// does not allow is an *APIError of code api.CodeInvalidState (409); one on a
// finished task is api.CodeConflict. ResetStep, ResolveStep and CompleteStep
// build the action for you.
func (c *Client) StepAction(ctx context.Context, taskUUID, stepUUID string, a api.StepManualAction) (*api.StepResponse, error) {
	var out api.StepResponse
	if err := c.do(ctx, http.MethodPatch, stepPath(taskUUID, stepUUID), nil, a, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResetStep puts a step in error back to pending with zero attempts, so it
// runs again (action reset_for_retry). reason and by are required.
func (c *Client) ResetStep(ctx context.Context, taskUUID, stepUUID, reason, by string) (*api.StepResponse, error) {
	return c.StepAction(ctx, taskUUID, stepUUID, api.StepManualAction{ActionType: api.ActionResetForRetry, Reason: reason, ResetBy: by})
}

// ResolveStep marks a step done without a result (action resolve_manually);
// its dependents run with a null parent result. reason and by are required.
func (c *Client) ResolveStep(ctx context.Context, taskUUID, stepUUID, reason, by string) (*api.StepResponse, error) {
	return c.StepAction(ctx, taskUUID, stepUUID, api.StepManualAction{ActionType: api.ActionResolveManually, Reason: reason, ResolvedBy: by})
}

// CompleteStep completes a step with result (action complete_manually);
// its dependents receive result as their parent result. result is encoded
// as JSON (a json.RawMessage is sent as it is). reason and by are required.
func (c *Client) CompleteStep(ctx context.Context, taskUUID, stepUUID string, result any, reason, by string) (*api.StepResponse, error) {
	raw, ok := result.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(result)
		if err != nil {
			return nil, fmt.Errorf("complete step %s: encode result: %w", stepUUID, err)
		}
		raw = b
	}
	return c.StepAction(ctx, taskUUID, stepUUID, api.StepManualAction{ActionType: api.ActionCompleteManually, Reason: reason,
		CompletedBy: by, CompletionData: &api.CompletionData{Result: raw}})
}

// DLQListOptions select a page of DLQ entries.
type DLQListOptions struct {
	// Status is the resolution status; "" means pending.
	Status string
	// Limit is the page size, 1–100; 0 means the API's default (25).
	Limit int
	// Cursor is the previous page's Pagination.NextCursor.
	Cursor string
}

// ListDLQ reads one page of DLQ entries with a resolution status, newest
// first, without snapshots (GET /v1/dlq).
func (c *Client) ListDLQ(ctx context.Context, opts DLQListOptions) (*api.DLQList, error) {
	q := url.Values{}
	if opts.Status != "" {
		q.Set("resolution_status", opts.Status)
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var out api.DLQList
	if err := c.do(ctx, http.MethodGet, "/v1/dlq", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DLQForTask reads every DLQ entry about a task, newest first, with
// snapshots (GET /v1/dlq/task/{uuid}). An unknown task without entries is an
// *APIError of code api.CodeTaskNotFound.
func (c *Client) DLQForTask(ctx context.Context, taskUUID string) ([]api.DLQEntry, error) {
	var out []api.DLQEntry
	if err := c.do(ctx, http.MethodGet, "/v1/dlq/task/"+url.PathEscape(taskUUID), nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetDLQEntry reads one DLQ entry with its snapshot and full message
// (GET /v1/dlq/entry/{uuid}); api.CodeDLQEntryNotFound when there is none.
func (c *Client) GetDLQEntry(ctx context.Context, entryUUID string) (*api.DLQEntry, error) {
	var out api.DLQEntry
	if err := c.do(ctx, http.MethodGet, "/v1/dlq/entry/"+url.PathEscape(entryUUID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateDLQEntry records the outcome of an investigation
// (PATCH /v1/dlq/entry/{uuid}) and returns the entry.
func (c *Client) UpdateDLQEntry(ctx context.Context, entryUUID string, u api.DLQUpdateRequest) (*api.DLQEntry, error) {
	var out api.DLQEntry
	if err := c.do(ctx, http.MethodPatch, "/v1/dlq/entry/"+url.PathEscape(entryUUID), nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DLQStats counts DLQ entries by resolution status (GET /v1/dlq/stats).
func (c *Client) DLQStats(ctx context.Context) (*api.DLQStats, error) {
	var out api.DLQStats
	if err := c.do(ctx, http.MethodGet, "/v1/dlq/stats", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func taskPath(taskUUID string) string { return "/v1/tasks/" + url.PathEscape(taskUUID) }

package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Listing limits.
const (
	DefaultListLimit = 25
	MaxListLimit     = 100
)

// listConcurrency bounds the step reads of one task listing.
const listConcurrency = 8

// maxListReads bounds the store reads one page of a filtered listing makes
// while it fills the page.
const maxListReads = 5

// listTasks serves GET /v1/tasks?namespace=&status=&initiator=&source_system=&limit=&cursor=.
// Every filter is optional. With a namespace, tasks come newest first;
// without one the table is scanned and the order is unspecified.
func (h *Handler) listTasks(ctx context.Context, r *request) response {
	f := dynamo.TaskFilter{Namespace: r.query["namespace"], Status: r.query["status"],
		Initiator: r.query["initiator"], SourceSystem: r.query["source_system"]}
	if res, ok := checkTaskFilter(f); !ok {
		return res
	}
	if f.Status != "" {
		if _, err := statemachine.ParseTaskState(f.Status); err != nil {
			return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("status: %q is not a task state (e.g. steps_in_process, complete, error, cancelled)", f.Status), "status")
		}
	}
	limit, res, ok := queryLimit(r)
	if !ok {
		return res
	}
	storeCursor, ok := decodeListCursor(f, r.query["cursor"])
	if !ok {
		return invalidCursor()
	}
	tasks, next, err := h.taskPage(ctx, f, limit, storeCursor)
	if errors.Is(err, dynamo.ErrBadCursor) {
		return invalidCursor()
	}
	if err != nil {
		return h.internal(ctx, r, err)
	}
	out, err := h.summaries(ctx, tasks)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	return jsonResponse(200, TaskList{Tasks: out, Pagination: Pagination{Limit: limit, HasNext: next != "", NextCursor: encodeListCursor(f, next)}})
}

// taskPage reads tasks until it has limit of them, the listing ends, or it
// made maxListReads reads (filters can leave a store page short or empty).
func (h *Handler) taskPage(ctx context.Context, f dynamo.TaskFilter, limit int, cursor string) ([]*workflow.Task, string, error) {
	var tasks []*workflow.Task
	for range maxListReads {
		page, err := h.engine.Store().ListTasks(ctx, f, limit-len(tasks), cursor)
		if err != nil {
			return nil, "", err
		}
		tasks, cursor = append(tasks, page.Tasks...), page.Cursor
		if cursor == "" || len(tasks) >= limit {
			break
		}
	}
	return tasks, cursor, nil
}

// queryLimit reads the limit query parameter: 1 to MaxListLimit, default
// DefaultListLimit.
func queryLimit(r *request) (int, response, bool) {
	v, ok := r.query["limit"]
	if !ok {
		return DefaultListLimit, response{}, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxListLimit {
		return 0, errorResponse(400, CodeInvalidRequest, fmt.Sprintf("limit: must be an integer from 1 to %d", MaxListLimit), "limit"), false
	}
	return n, response{}, true
}

func invalidCursor() response {
	return errorResponse(400, CodeInvalidRequest, "cursor: invalid; pass the next_cursor of the previous page with the same filters unchanged", "cursor")
}

// summaries builds list entries: counts from each task's steps, no context
// and no steps (a page of contexts could exceed Lambda's response limit).
func (h *Handler) summaries(ctx context.Context, tasks []*workflow.Task) ([]TaskResponse, error) {
	out := make([]TaskResponse, len(tasks))
	errs := make([]error, len(tasks))
	sem := make(chan struct{}, listConcurrency)
	var wg sync.WaitGroup
	now := h.clock()
	for i, t := range tasks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			steps, err := h.engine.Store().ListSteps(ctx, t.UUID)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = taskResponse(t, nil, steps, now, false)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// listCursor is the API's cursor: the store's cursor with the filters it
// belongs to, so a cursor used with other filters is rejected instead of
// sent to DynamoDB.
type listCursor struct {
	Namespace    string `json:"n,omitempty"`
	Status       string `json:"s,omitempty"`
	Initiator    string `json:"i,omitempty"`
	SourceSystem string `json:"o,omitempty"`
	Store        string `json:"c"`
}

func encodeListCursor(f dynamo.TaskFilter, storeCursor string) string {
	if storeCursor == "" {
		return ""
	}
	b, _ := json.Marshal(listCursor{f.Namespace, f.Status, f.Initiator, f.SourceSystem, storeCursor})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeListCursor(f dynamo.TaskFilter, cursor string) (string, bool) {
	if cursor == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	var c listCursor
	if json.Unmarshal(b, &c) != nil || c.Store == "" {
		return "", false
	}
	if c.Namespace != f.Namespace || c.Status != f.Status || c.Initiator != f.Initiator || c.SourceSystem != f.SourceSystem {
		return "", false
	}
	return c.Store, true
}

package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Listing limits.
const (
	DefaultListLimit = 25
	MaxListLimit     = 100
)

// listConcurrency bounds the step reads of one task listing.
const listConcurrency = 8

// createTask serves POST /v1/tasks.
func (h *Handler) createTask(ctx context.Context, r *request) response {
	var req engine.TaskRequest
	if res, ok := decodeBody(r.body, &req); !ok {
		return res
	}
	t, err := h.engine.CreateTask(ctx, req)
	if err != nil {
		return h.createError(ctx, r, req, err)
	}
	res, err := h.taskWithSteps(ctx, t)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("read created task %s: %w", t.UUID, err))
	}
	res = res.withStatus(201)
	res.headers = map[string]string{"Location": "/v1/tasks/" + t.UUID}
	return res
}

// createError maps CreateTask's errors to responses.
func (h *Handler) createError(ctx context.Context, r *request, req engine.TaskRequest, err error) response {
	var (
		invalid *engine.InvalidRequestError
		ctxErr  *template.ContextError
	)
	switch {
	case errors.As(err, &invalid):
		return errorResponse(400, CodeInvalidRequest, invalid.Error(), invalid.Field)
	case errors.As(err, &ctxErr):
		return errorResponse(400, CodeInvalidContext, ctxErr.Error(), ctxErr.Field)
	case errors.Is(err, engine.ErrTemplateNotFound):
		key := req.Namespace + "/" + req.Name
		if req.Version != "" {
			key += ":" + req.Version
		}
		return errorResponse(404, CodeTemplateNotFound, "no template is registered as "+key, "")
	case errors.Is(err, workflow.ErrDuplicateTask):
		return errorResponse(409, CodeDuplicateTask, "a task with the same identity already exists (same template and context, or same idempotency_key)", "")
	case errors.Is(err, workflow.ErrTooLarge):
		return errorResponse(413, CodePayloadTooLarge, "the task is too large to store: "+tooLargeDetail(req), "context")
	}
	return h.internal(ctx, r, fmt.Errorf("create task: %w", err))
}

func tooLargeDetail(req engine.TaskRequest) string {
	return fmt.Sprintf("the context is %d bytes; at most %d are allowed", len(req.Context), dynamo.MaxContextBytes)
}

// getTask serves GET /v1/tasks/{task_uuid}.
func (h *Handler) getTask(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	t, err := h.engine.Store().GetTask(ctx, id)
	if err != nil {
		return h.taskError(ctx, r, id, err)
	}
	out, err := h.taskWithSteps(ctx, t)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	return out
}

// taskWithSteps reads a task's context and steps (concurrently) and builds
// its response. A response too large for Lambda leaves out step results.
func (h *Handler) taskWithSteps(ctx context.Context, t *workflow.Task) (response, error) {
	var (
		wg       sync.WaitGroup
		taskCtx  json.RawMessage
		steps    []*workflow.Step
		ctxErr   error
		stepsErr error
	)
	taskCtx = t.Context
	if len(taskCtx) == 0 {
		wg.Go(func() { taskCtx, ctxErr = h.engine.Store().GetContext(ctx, t.UUID) })
	}
	wg.Go(func() { steps, stepsErr = h.engine.Store().ListSteps(ctx, t.UUID) })
	wg.Wait()
	if err := errors.Join(ctxErr, stepsErr); err != nil {
		return response{}, err
	}
	body := taskResponse(t, taskCtx, steps, h.clock(), true)
	return boundedSteps(200, &body, func() { omitResults(body.Steps) }), nil
}

// taskError answers a failed task read: 404 for a missing task, else 500.
func (h *Handler) taskError(ctx context.Context, r *request, id string, err error) response {
	if errors.Is(err, workflow.ErrNotFound) {
		return errorResponse(404, CodeTaskNotFound, "no task "+id, "task_uuid")
	}
	return h.internal(ctx, r, err)
}

// listTasks serves GET /v1/tasks?namespace=&limit=&cursor=.
func (h *Handler) listTasks(ctx context.Context, r *request) response {
	ns := r.query["namespace"]
	if ns == "" {
		return errorResponse(400, CodeInvalidRequest, "namespace: required (listing across namespaces is not supported yet)", "namespace")
	}
	limit := DefaultListLimit
	if v, ok := r.query["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("limit: must be an integer from 1 to %d", MaxListLimit), "limit")
		}
		limit = n
	}
	storeCursor, ok := decodeListCursor(ns, r.query["cursor"])
	if !ok {
		return invalidCursor()
	}
	page, err := h.engine.Store().ListTasksByNamespace(ctx, ns, limit, storeCursor)
	if errors.Is(err, dynamo.ErrBadCursor) {
		return invalidCursor()
	}
	if err != nil {
		return h.internal(ctx, r, err)
	}
	tasks, err := h.summaries(ctx, page.Tasks)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	out := TaskList{Tasks: tasks, Pagination: Pagination{Limit: limit, HasNext: page.Cursor != "", NextCursor: encodeListCursor(ns, page.Cursor)}}
	return jsonResponse(200, out)
}

func invalidCursor() response {
	return errorResponse(400, CodeInvalidRequest, "cursor: invalid; pass the next_cursor of the previous page of the same namespace unchanged", "cursor")
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

// List cursors wrap the store's cursor with the namespace they belong to, so
// a cursor used with another namespace is rejected instead of sent to
// DynamoDB.
func encodeListCursor(namespace, storeCursor string) string {
	if storeCursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(namespace + "\n" + storeCursor))
}

func decodeListCursor(namespace, cursor string) (string, bool) {
	if cursor == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	ns, storeCursor, ok := strings.Cut(string(b), "\n")
	if !ok || ns != namespace || storeCursor == "" {
		return "", false
	}
	return storeCursor, true
}

// pathUUID reads a UUID path parameter, answering 400 when it is not one.
func pathUUID(r *request, name string) (string, response, bool) {
	u, err := uuid.Parse(r.params[name])
	if err != nil {
		return "", errorResponse(400, CodeInvalidRequest, fmt.Sprintf("%s: %q is not a UUID", name, r.params[name]), name), false
	}
	return u.String(), response{}, true
}

// withStatus returns res with another status.
func (res response) withStatus(status int) response {
	res.status = status
	return res
}

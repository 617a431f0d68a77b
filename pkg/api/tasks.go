package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// createTask serves POST /v1/tasks.
func (h *Handler) createTask(ctx context.Context, r *request) response {
	var req engine.TaskRequest
	if res, ok := decodeBody(r.body, &req); !ok {
		return res
	}
	if res, ok := checkTaskRequest(&req); !ok {
		return res
	}
	t, steps, err := h.engine.CreateTaskWithSteps(ctx, req)
	if err != nil {
		return h.createError(ctx, r, req, err)
	}
	// The engine hands back the steps as it left them: no read-back. Sorted
	// by name, as a read lists them.
	steps = slices.Clone(steps)
	slices.SortFunc(steps, func(a, b *workflow.Step) int { return strings.Compare(a.Name, b.Name) })
	res := h.taskSnapshot(t, t.Context, steps).withStatus(201)
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
	case errors.Is(err, engine.ErrCreationTooSlow):
		return errorResponse(503, CodeUnavailable, "the task could not be created in time and was not created; try again", "")
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
	return h.taskSnapshot(t, taskCtx, steps), nil
}

// taskSnapshot answers with a task, its context and its steps (results left
// out when the whole would be too large).
func (h *Handler) taskSnapshot(t *workflow.Task, taskCtx json.RawMessage, steps []*workflow.Step) response {
	body := taskResponse(t, taskCtx, steps, h.clock(), true)
	return boundedSteps(200, &body, func() { omitResults(body.Steps) })
}

// taskError answers a failed task read: 404 for a missing task, else 500.
func (h *Handler) taskError(ctx context.Context, r *request, id string, err error) response {
	if errors.Is(err, workflow.ErrNotFound) {
		return errorResponse(404, CodeTaskNotFound, "no task "+id, "task_uuid")
	}
	return h.internal(ctx, r, err)
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

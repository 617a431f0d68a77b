package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// cancelTask serves DELETE /v1/tasks/{task_uuid}: the task is cancelled,
// steps that have not started are cancelled, running steps finish.
func (h *Handler) cancelTask(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	var req CancelRequest
	if res, ok := decodeOptionalBody(r.body, &req); !ok {
		return res
	}
	if res, ok := checkText("reason", req.Reason, MaxReasonLength); !ok {
		return res
	}
	if res, ok := checkText("cancelled_by", req.CancelledBy, MaxActorLength); !ok {
		return res
	}
	t, err := h.engine.CancelTask(ctx, id, req.Reason, req.CancelledBy)
	if err != nil {
		return h.taskOperationError(ctx, r, id, "cancelled", err)
	}
	return h.taskBody(ctx, r, t)
}

// pauseTask serves POST /v1/tasks/{task_uuid}/pause: no new step starts
// until the task is resumed; running steps finish.
func (h *Handler) pauseTask(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	var req PauseRequest
	if res, ok := decodeOptionalBody(r.body, &req); !ok {
		return res
	}
	if res, ok := checkText("paused_by", req.PausedBy, MaxActorLength); !ok {
		return res
	}
	t, err := h.engine.PauseTask(ctx, id, req.PausedBy)
	if err != nil {
		return h.taskOperationError(ctx, r, id, "paused", err)
	}
	return h.taskBody(ctx, r, t)
}

// resumeTask serves POST /v1/tasks/{task_uuid}/resume: the task runs on from
// where it stopped.
func (h *Handler) resumeTask(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	var req ResumeRequest
	if res, ok := decodeOptionalBody(r.body, &req); !ok {
		return res
	}
	if res, ok := checkText("resumed_by", req.ResumedBy, MaxActorLength); !ok {
		return res
	}
	t, err := h.engine.ResumeTask(ctx, id, req.ResumedBy)
	if err != nil {
		return h.taskOperationError(ctx, r, id, "resumed", err)
	}
	return h.taskBody(ctx, r, t)
}

// taskBody answers 200 with the task and its steps.
func (h *Handler) taskBody(ctx context.Context, r *request, t *workflow.Task) response {
	out, err := h.taskWithSteps(ctx, t)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("read task %s: %w", t.UUID, err))
	}
	return out
}

// taskOperationError maps the errors of CancelTask, PauseTask and
// ResumeTask; done is the participle of the operation ("cancelled").
func (h *Handler) taskOperationError(ctx context.Context, r *request, id, done string, err error) response {
	var illegal *statemachine.IllegalTransitionError
	switch {
	case errors.Is(err, workflow.ErrNotFound):
		return errorResponse(404, CodeTaskNotFound, "no task "+id, "task_uuid")
	case errors.Is(err, engine.ErrTaskFinished):
		return errorResponse(409, CodeConflict, fmt.Sprintf("task %s has finished (%s); only an unfinished task can be %s", id, h.taskState(ctx, id), done), "")
	case errors.As(err, &illegal):
		return errorResponse(409, CodeInvalidState, fmt.Sprintf("task in state %s cannot be %s", illegal.From, done), "")
	case errors.Is(err, workflow.ErrConflict):
		return errorResponse(409, CodeConflict, fmt.Sprintf("task %s changed while it was being %s; read it and try again", id, done), "")
	}
	return h.internal(ctx, r, err)
}

// taskState reads a task's state for an error message; "unknown" when the
// read fails.
func (h *Handler) taskState(ctx context.Context, id string) string {
	t, err := h.engine.Store().GetTask(ctx, id)
	if err != nil {
		return "unknown"
	}
	return string(t.State)
}

// decodeOptionalBody decodes a JSON object body when there is one.
func decodeOptionalBody(body []byte, v any) (response, bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return response{}, true
	}
	return decodeBody(body, v)
}

// checkText rejects a text field longer than limit characters.
func checkText(field, value string, limit int) (response, bool) {
	if n := utf8.RuneCountInString(value); n > limit {
		return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("%s: at most %d characters, got %d", field, limit, n), field), false
	}
	return response{}, true
}

// requireText rejects an empty or too long text field.
func requireText(field, value string, limit int) (response, bool) {
	if value == "" {
		return errorResponse(400, CodeInvalidRequest, field+": required", field), false
	}
	return checkText(field, value, limit)
}

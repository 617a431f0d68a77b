package api

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// readyTimeout bounds the readiness check's store read.
const readyTimeout = 3 * time.Second

// health serves GET /health and GET /health/live: the process answers.
func (h *Handler) health(context.Context, *request) response {
	return jsonResponse(200, HealthResponse{Status: "healthy", Version: h.version})
}

// ready serves GET /health/ready: the store answers. It reads a task that
// cannot exist and expects "not found"; anything else (a missing table,
// denied access, a timeout) is 503.
func (h *Handler) ready(ctx context.Context, r *request) response {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	_, err := h.engine.Store().GetTask(ctx, uuid.NewString())
	if errors.Is(err, workflow.ErrNotFound) {
		return jsonResponse(200, HealthResponse{Status: "healthy", Version: h.version, Checks: map[string]string{"store": "ok"}})
	}
	if err == nil {
		err = errors.New("readiness probe found a task under a random UUID")
	}
	h.log.ErrorContext(ctx, "api: not ready", "request_id", r.id, "error", err.Error())
	res := jsonResponse(503, HealthResponse{Status: "unavailable", Version: h.version, Checks: map[string]string{"store": "unavailable"}})
	res.headers = map[string]string{"Retry-After": "5"}
	return res
}

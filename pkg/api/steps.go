package api

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// MaxResponseBytes bounds a response body. Lambda returns at most 6 MB
// from a synchronous invocation, and the body travels as an escaped JSON
// string inside API Gateway's response, so the bound leaves headroom.
const MaxResponseBytes = 4 << 20

// listSteps serves GET /v1/tasks/{task_uuid}/workflow_steps.
func (h *Handler) listSteps(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	steps, res, ok := h.taskSteps(ctx, r, id)
	if !ok {
		return res
	}
	now := h.clock()
	out := make([]StepResponse, 0, len(steps))
	for _, s := range steps {
		out = append(out, stepResponse(s, now))
	}
	return boundedSteps(200, out, func() { omitResults(out) })
}

// getStep serves GET /v1/tasks/{task_uuid}/workflow_steps/{step_uuid}. An
// out-of-line result is loaded.
func (h *Handler) getStep(ctx context.Context, r *request) response {
	s, res, ok := h.findStep(ctx, r)
	if !ok {
		return res
	}
	return h.stepBody(ctx, r, s)
}

// stepBody answers 200 with one step, its out-of-line result loaded.
func (h *Handler) stepBody(ctx context.Context, r *request, s *workflow.Step) response {
	out := stepResponse(s, h.clock())
	if len(s.Result) == 0 && s.ResultRef != nil {
		b, err := h.engine.Store().LoadPayload(ctx, s.ResultRef)
		if err != nil {
			return h.internal(ctx, r, fmt.Errorf("load result of step %s: %w", s.Name, err))
		}
		out.Results, out.ResultsOmitted = json.RawMessage(b), false
	}
	return boundedSteps(200, &out, func() { out.Results, out.ResultsOmitted = nil, true })
}

// stepAudit serves GET /v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit.
// It reads the task too: a step's records carry the task's correlation ID
// only through it.
func (h *Handler) stepAudit(ctx context.Context, r *request) response {
	s, res, ok := h.findStep(ctx, r)
	if !ok {
		return res
	}
	t, err := h.engine.Store().GetTask(ctx, s.TaskUUID)
	if err != nil {
		return h.taskError(ctx, r, s.TaskUUID, err)
	}
	s.FillCorrelation(t.CorrelationID)
	return jsonResponse(200, auditEntries(s.Name, s.UUID, s.History))
}

// taskAudit serves GET /v1/tasks/{task_uuid}/audit: the task's transitions
// and every step's, ordered by time; ties keep task-then-step-name order and
// each entity's own order.
func (h *Handler) taskAudit(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	t, err := h.engine.Store().GetTask(ctx, id)
	if err != nil {
		return h.taskError(ctx, r, id, err)
	}
	steps, err := h.engine.Store().ListSteps(ctx, id)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	entries := auditEntries("task", "", t.History)
	for _, s := range steps {
		s.FillCorrelation(t.CorrelationID)
		entries = append(entries, auditEntries(s.Name, s.UUID, s.History)...)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].CreatedAt.Before(entries[j].CreatedAt) })
	return jsonResponse(200, entries)
}

// taskSteps reads a task's steps, and the task (at the same time), so an
// unknown task is a 404, not an empty list, and step items under a key with
// no task item (a creation that stopped before publishing the task, see
// docs/data-model.md) are never served.
func (h *Handler) taskSteps(ctx context.Context, r *request, id string) ([]*workflow.Step, response, bool) {
	var (
		wg       sync.WaitGroup
		steps    []*workflow.Step
		stepsErr error
	)
	wg.Go(func() { steps, stepsErr = h.engine.Store().ListSteps(ctx, id) })
	_, taskErr := h.engine.Store().GetTask(ctx, id)
	wg.Wait()
	if taskErr != nil {
		return nil, h.taskError(ctx, r, id, taskErr), false
	}
	if stepsErr != nil {
		return nil, h.internal(ctx, r, stepsErr), false
	}
	return steps, response{}, true
}

// findStep resolves the task_uuid and step_uuid path parameters to a step.
func (h *Handler) findStep(ctx context.Context, r *request) (*workflow.Step, response, bool) {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return nil, res, false
	}
	stepID, res, ok := pathUUID(r, "step_uuid")
	if !ok {
		return nil, res, false
	}
	steps, res, ok := h.taskSteps(ctx, r, id)
	if !ok {
		return nil, res, false
	}
	for _, s := range steps {
		if s.UUID == stepID {
			return s, response{}, true
		}
	}
	return nil, errorResponse(404, CodeStepNotFound, fmt.Sprintf("task %s has no step %s", id, stepID), "step_uuid"), false
}

// boundedSteps encodes body; when it exceeds MaxResponseBytes it calls
// shrink (which leaves step results out) and encodes again.
func boundedSteps(status int, body any, shrink func()) response {
	b, err := marshal(body)
	if err == nil && len(b) > MaxResponseBytes {
		shrink()
		b, err = marshal(body)
	}
	if err != nil {
		return jsonResponse(status, body) // encode fails again and answers 500
	}
	return response{status: status, raw: b}
}

// omitResults leaves every step's result out, marking it omitted.
func omitResults(steps []StepResponse) {
	for i := range steps {
		if steps[i].Results != nil {
			steps[i].Results, steps[i].ResultsOmitted = nil, true
		}
	}
}

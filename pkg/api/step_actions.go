package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// actorFields names the operator field of each action.
var actorFields = map[string]string{
	ActionResetForRetry:    "reset_by",
	ActionResolveManually:  "resolved_by",
	ActionCompleteManually: "completed_by",
}

// patchStep serves PATCH /v1/tasks/{task_uuid}/workflow_steps/{step_uuid}:
// an operator's manual action on a step (Tasker Core's StepManualAction).
// The engine re-drives the task afterwards, so a task that had failed runs
// on. The answer is the step after the action.
func (h *Handler) patchStep(ctx context.Context, r *request) response {
	if _, res, ok := pathUUID(r, "task_uuid"); !ok {
		return res
	}
	if _, res, ok := pathUUID(r, "step_uuid"); !ok {
		return res
	}
	var req StepManualAction
	if res, ok := decodeBody(r.body, &req); !ok {
		return res
	}
	action, res, ok := req.engineAction()
	if !ok {
		return res
	}
	step, res, ok := h.findStep(ctx, r)
	if !ok {
		return res
	}
	s, err := h.engine.ApplyStepAction(ctx, step.TaskUUID, step.UUID, action)
	if err != nil {
		return h.stepActionError(ctx, r, step, action.Type, err)
	}
	return h.stepBody(ctx, r, s)
}

// engineAction validates the request and turns it into the engine's action.
func (a *StepManualAction) engineAction() (engine.StepAction, response, bool) {
	actor, known := actorFields[a.ActionType]
	switch {
	case a.ActionType == "":
		return engine.StepAction{}, errorResponse(400, CodeInvalidRequest, "action_type: required; one of reset_for_retry, resolve_manually, complete_manually", "action_type"), false
	case !known:
		return engine.StepAction{}, errorResponse(400, CodeInvalidRequest, fmt.Sprintf("action_type: unknown action %q; want reset_for_retry, resolve_manually or complete_manually", a.ActionType), "action_type"), false
	}
	actors := map[string]string{"reset_by": a.ResetBy, "resolved_by": a.ResolvedBy, "completed_by": a.CompletedBy}
	for _, f := range []string{"reset_by", "resolved_by", "completed_by"} {
		if f != actor && actors[f] != "" {
			return engine.StepAction{}, errorResponse(400, CodeInvalidRequest, fmt.Sprintf("%s: not allowed with action_type %s (it names the operator in %s)", f, a.ActionType, actor), f), false
		}
	}
	if a.CompletionData != nil && a.ActionType != ActionCompleteManually {
		return engine.StepAction{}, errorResponse(400, CodeInvalidRequest, "completion_data: only allowed with action_type complete_manually", "completion_data"), false
	}
	if res, ok := requireText("reason", a.Reason, MaxReasonLength); !ok {
		return engine.StepAction{}, res, false
	}
	if res, ok := requireText(actor, actors[actor], MaxActorLength); !ok {
		return engine.StepAction{}, res, false
	}
	out := engine.StepAction{Type: a.ActionType, Reason: a.Reason, By: actors[actor]}
	if a.ActionType == ActionCompleteManually {
		res, ok := a.CompletionData.check()
		if !ok {
			return engine.StepAction{}, res, false
		}
		out.Result = bytes.TrimSpace(a.CompletionData.Result)
	}
	return out, response{}, true
}

// check requires a result and an object (or no) metadata.
func (d *CompletionData) check() (response, bool) {
	if d == nil {
		return errorResponse(400, CodeInvalidRequest, `completion_data: required with complete_manually, e.g. {"result": {"value": 1}}`, "completion_data"), false
	}
	result := bytes.TrimSpace(d.Result)
	if len(result) == 0 || string(result) == "null" {
		return errorResponse(400, CodeInvalidRequest, "completion_data.result: required; the step's result, which its dependents receive", "completion_data.result"), false
	}
	if m := bytes.TrimSpace(d.Metadata); len(m) > 0 && m[0] != '{' && string(m) != "null" {
		return errorResponse(400, CodeInvalidRequest, "completion_data.metadata: must be an object", "completion_data.metadata"), false
	}
	return response{}, true
}

// stepActionError maps ApplyStepAction's errors.
func (h *Handler) stepActionError(ctx context.Context, r *request, step *workflow.Step, action string, err error) response {
	var (
		invalid *engine.InvalidRequestError
		illegal *statemachine.IllegalTransitionError
	)
	switch {
	case errors.As(err, &invalid):
		field := invalid.Field
		if field == "result" {
			field = "completion_data.result"
		}
		return errorResponse(400, CodeInvalidRequest, field+": "+invalid.Reason, field)
	case errors.Is(err, workflow.ErrNotFound):
		return errorResponse(404, CodeStepNotFound, fmt.Sprintf("task %s has no step %s", step.TaskUUID, step.UUID), "step_uuid")
	case errors.Is(err, engine.ErrTaskFinished):
		return errorResponse(409, CodeConflict, fmt.Sprintf("task %s has finished (%s); manual step actions need an unfinished task", step.TaskUUID, h.taskState(ctx, step.TaskUUID)), "")
	case errors.As(err, &illegal) && illegal.Machine == statemachine.MachineStep:
		return errorResponse(409, CodeInvalidState, fmt.Sprintf("step %s in state %s cannot %s", step.Name, illegal.From, action), "action_type")
	case errors.As(err, &illegal):
		return errorResponse(409, CodeInvalidState, fmt.Sprintf("task in state %s cannot %s", illegal.From, action), "action_type")
	case errors.Is(err, workflow.ErrConflict):
		return errorResponse(409, CodeConflict, fmt.Sprintf("step %s changed while the action was applied; read it and try again", step.Name), "")
	}
	return h.internal(ctx, r, fmt.Errorf("%s step %s of task %s: %w", action, step.Name, step.TaskUUID, err))
}

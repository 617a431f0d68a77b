package api

import (
	"encoding/json"

	"github.com/tasker-go/tasker/pkg/engine"
)

// Limits on the operator fields of operation requests.
const (
	// MaxReasonLength bounds a reason, in characters (Tasker Core's limit
	// for a task request's reason).
	MaxReasonLength = 500
	// MaxActorLength bounds cancelled_by, reset_by, resolved_by and the like.
	MaxActorLength = 255
)

// CancelRequest is the optional body of DELETE /v1/tasks/{task_uuid}.
type CancelRequest struct {
	Reason      string `json:"reason,omitempty"`
	CancelledBy string `json:"cancelled_by,omitempty"`
}

// PauseRequest is the optional body of POST /v1/tasks/{task_uuid}/pause.
type PauseRequest struct {
	PausedBy string `json:"paused_by,omitempty"`
}

// ResumeRequest is the optional body of POST /v1/tasks/{task_uuid}/resume.
type ResumeRequest struct {
	ResumedBy string `json:"resumed_by,omitempty"`
}

// Manual step actions: the action_type of a StepManualAction.
const (
	ActionResetForRetry    = engine.ActionResetForRetry
	ActionResolveManually  = engine.ActionResolveManually
	ActionCompleteManually = engine.ActionCompleteManually
)

// StepManualAction is the body of PATCH
// /v1/tasks/{task_uuid}/workflow_steps/{step_uuid}: Tasker Core's tagged
// union on action_type. Each action names its operator in its own field:
//
//	{"action_type": "reset_for_retry", "reason": "...", "reset_by": "..."}
//	{"action_type": "resolve_manually", "reason": "...", "resolved_by": "..."}
//	{"action_type": "complete_manually", "reason": "...", "completed_by": "...",
//	 "completion_data": {"result": {...}, "metadata": {...}}}
type StepManualAction struct {
	ActionType     string          `json:"action_type"`
	Reason         string          `json:"reason"`
	ResetBy        string          `json:"reset_by,omitempty"`
	ResolvedBy     string          `json:"resolved_by,omitempty"`
	CompletedBy    string          `json:"completed_by,omitempty"`
	CompletionData *CompletionData `json:"completion_data,omitempty"`
}

// CompletionData is the result an operator gives a step completed by hand.
// Result becomes the step's result, which its dependents receive as their
// parent result. Metadata is accepted for compatibility and not stored.
type CompletionData struct {
	Result   json.RawMessage `json:"result"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// DLQUpdateRequest is the body of PATCH /v1/dlq/entry/{entry_uuid}.
// Metadata is accepted for compatibility and not stored.
type DLQUpdateRequest struct {
	ResolutionStatus string          `json:"resolution_status"`
	ResolutionNotes  string          `json:"resolution_notes,omitempty"`
	ResolvedBy       string          `json:"resolved_by,omitempty"`
	Metadata         json.RawMessage `json:"metadata,omitempty"`
}

package api

import (
	"encoding/json"
	"fmt"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/template"
)

// Limits on the operator fields of operation requests and on task
// requests. The request body as a whole is bounded by Config.MaxBodyBytes
// (DefaultMaxBodyBytes); MaxReasonLength, MaxResolutionNotes and
// MaxListLimit are the other limits of this package.
const (
	// MaxReasonLength bounds a reason, in characters (Tasker Core's limit
	// for a task request's reason).
	MaxReasonLength = 500
	// MaxActorLength bounds cancelled_by, reset_by, resolved_by and the
	// like, a task request's initiator and source_system, and the
	// initiator and source_system filters of GET /v1/tasks.
	MaxActorLength = 255
	// MaxContextBytes bounds a task request's context (the store's limit;
	// 413 above it).
	MaxContextBytes = dynamo.MaxContextBytes
	// MaxContextDepth bounds the nesting of objects and arrays in a task
	// context (the limit workers' results have too).
	MaxContextDepth = protocol.MaxJSONDepth
	// MaxOptionsBytes bounds a task request's options object.
	MaxOptionsBytes = 16 * 1024
)

// checkTaskRequest applies the API's checks to a decoded task request
// before the engine sees it: the names that become table keys and queue
// names match their template patterns, and the context and free-text
// fields are bounded. The engine checks the rest (tags, priority,
// correlation ids, idempotency key, the context against input_schema).
func checkTaskRequest(req *engine.TaskRequest) (response, bool) {
	bad := func(field string, format string, args ...any) (response, bool) {
		return errorResponse(400, CodeInvalidRequest, field+": "+fmt.Sprintf(format, args...), field), false
	}
	if req.Namespace != "" {
		if err := template.CheckNamespace(req.Namespace); err != nil {
			return bad("namespace", "%v", err)
		}
	}
	if req.Name != "" {
		if err := template.CheckName(req.Name); err != nil {
			return bad("name", "%v", err)
		}
	}
	if req.Version != "" {
		if err := template.CheckVersion(req.Version); err != nil {
			return bad("version", "%v", err)
		}
	}
	if len(req.Context) > MaxContextBytes {
		return errorResponse(413, CodePayloadTooLarge, fmt.Sprintf("context: %d bytes; at most %d are allowed", len(req.Context), MaxContextBytes), "context"), false
	}
	if err := protocol.CheckJSONDepth(req.Context, MaxContextDepth); err != nil {
		return bad("context", "%v", err)
	}
	if len(req.Options) > MaxOptionsBytes {
		return bad("options", "%d bytes; at most %d are allowed", len(req.Options), MaxOptionsBytes)
	}
	if err := protocol.CheckJSONDepth(req.Options, MaxContextDepth); err != nil {
		return bad("options", "%v", err)
	}
	for _, f := range []struct{ field, v string }{{"initiator", req.Initiator}, {"source_system", req.SourceSystem}, {"requested_at", req.RequestedAt}} {
		if len(f.v) > MaxActorLength {
			return bad(f.field, "at most %d characters", MaxActorLength)
		}
	}
	return response{}, true
}

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

// checkTemplateKey checks the namespace, name and version path parameters
// of GET /v1/templates/{namespace}/{name}/{version} before they become a
// table key: a value no template can have is a 400, not a lookup.
func checkTemplateKey(ns, name, version string) (response, bool) {
	for _, p := range []struct {
		field string
		err   error
	}{{"namespace", template.CheckNamespace(ns)}, {"name", template.CheckName(name)}, {"version", template.CheckVersion(version)}} {
		if p.err != nil {
			return errorResponse(400, CodeInvalidRequest, p.field+": "+p.err.Error(), p.field), false
		}
	}
	return response{}, true
}

// checkTaskFilter checks the filters of GET /v1/tasks: the namespace
// becomes an index key, the others filter values.
func checkTaskFilter(f dynamo.TaskFilter) (response, bool) {
	if f.Namespace != "" {
		if err := template.CheckNamespace(f.Namespace); err != nil {
			return errorResponse(400, CodeInvalidRequest, "namespace: "+err.Error(), "namespace"), false
		}
	}
	for _, q := range []struct{ field, v string }{{"initiator", f.Initiator}, {"source_system", f.SourceSystem}} {
		if len(q.v) > MaxActorLength {
			return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("%s: at most %d characters", q.field, MaxActorLength), q.field), false
		}
	}
	return response{}, true
}

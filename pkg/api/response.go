package api

import (
	"encoding/json"
	"time"
)

// TaskResponse is a task as the API returns it, with Tasker Core's fields.
// The counts, execution_status, recommended_action, health_status and
// completion_percentage are derived from the task's steps when the response
// is built (see docs/api.md).
type TaskResponse struct {
	TaskUUID            string     `json:"task_uuid"`
	Name                string     `json:"name"`
	Namespace           string     `json:"namespace"`
	Version             string     `json:"version"`
	Status              string     `json:"status"` // the task state
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	CompletedAt         *time.Time `json:"completed_at"`
	Initiator           string     `json:"initiator"`
	SourceSystem        string     `json:"source_system"`
	Reason              string     `json:"reason,omitempty"`
	Priority            int        `json:"priority"`
	Tags                []string   `json:"tags"`
	CorrelationID       string     `json:"correlation_id"`
	ParentCorrelationID string     `json:"parent_correlation_id,omitempty"`
	Paused              bool       `json:"paused"`
	// Context is the task's context; left out of task listings.
	Context json.RawMessage `json:"context,omitempty"`

	TotalSteps           int     `json:"total_steps"`
	PendingSteps         int     `json:"pending_steps"`
	InProgressSteps      int     `json:"in_progress_steps"`
	CompletedSteps       int     `json:"completed_steps"`
	FailedSteps          int     `json:"failed_steps"`
	ReadySteps           int     `json:"ready_steps"`
	ExecutionStatus      string  `json:"execution_status"`
	RecommendedAction    string  `json:"recommended_action"`
	CompletionPercentage float64 `json:"completion_percentage"`
	HealthStatus         string  `json:"health_status"`

	// Steps are the task's steps ordered by name; absent from task listings.
	Steps []StepResponse `json:"steps,omitzero"`
}

// Terminal reports whether the task's status is one a task never leaves on
// its own: complete, error, cancelled or resolved_manually.
func (t *TaskResponse) Terminal() bool {
	switch t.Status {
	case "complete", "error", "cancelled", "resolved_manually":
		return true
	}
	return false
}

// StepResponse is a workflow step as the API returns it.
type StepResponse struct {
	StepUUID     string `json:"step_uuid"`
	TaskUUID     string `json:"task_uuid"`
	Name         string `json:"name"`
	TemplateStep string `json:"template_step"`
	Handler      string `json:"handler"`
	StepType     string `json:"step_type"`
	CurrentState string `json:"current_state"`
	// Dependencies names the steps this step waits for.
	Dependencies          []string `json:"dependencies"`
	DependenciesSatisfied bool     `json:"dependencies_satisfied"`
	RetryEligible         bool     `json:"retry_eligible"`
	ReadyForExecution     bool     `json:"ready_for_execution"`
	TotalParents          int      `json:"total_parents"`
	CompletedParents      int      `json:"completed_parents"`
	Attempts              int      `json:"attempts"`
	MaxAttempts           int      `json:"max_attempts"`
	Retryable             bool     `json:"retryable"`

	LastAttemptedAt *time.Time `json:"last_attempted_at"`
	LastFailureAt   *time.Time `json:"last_failure_at"`
	NextRetryAt     *time.Time `json:"next_retry_at"`
	EnqueuedAt      *time.Time `json:"enqueued_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	CompletedAt     *time.Time `json:"completed_at"`

	// Results is the step's result JSON, null until it has one.
	Results json.RawMessage `json:"results"`
	// ResultsOmitted is true when the result is stored out of line (it was
	// too large for a message) and was left out of a listing; GET the step
	// itself to read it.
	ResultsOmitted bool `json:"results_omitted,omitempty"`
	// Error describes the last failed attempt; null when there is none.
	Error *StepError `json:"error"`
	// Inputs are the step's run-time inputs (a batch worker's cursor).
	Inputs json.RawMessage `json:"inputs,omitempty"`
	// Checkpoint is the last checkpoint a batch worker saved.
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
	// CreatedBy names the decision or batchable step that created this
	// step; empty for steps created with the task.
	CreatedBy string `json:"created_by,omitempty"`
}

// StepError is the error a step's handler reported.
type StepError struct {
	Message    string          `json:"message"`
	ErrorType  string          `json:"error_type,omitempty"`
	Retryable  bool            `json:"retryable"`
	StatusCode int             `json:"status_code,omitempty"`
	Context    json.RawMessage `json:"context,omitempty"`
}

// AuditEntry is one transition of a task or step.
type AuditEntry struct {
	// Entity is "task" for the task's own transitions, else the step name.
	Entity string `json:"entity"`
	// StepUUID is set on step transitions.
	StepUUID string `json:"step_uuid,omitempty"`
	// FromState is empty on the transition that created the entity.
	FromState     string    `json:"from_state,omitempty"`
	ToState       string    `json:"to_state"`
	Event         string    `json:"event"`
	Attempt       int       `json:"attempt,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	Processor     string    `json:"processor,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	Reason        string    `json:"reason,omitempty"`
}

// TaskList is the body of GET /v1/tasks.
type TaskList struct {
	Tasks      []TaskResponse `json:"tasks"`
	Pagination Pagination     `json:"pagination"`
}

// Pagination describes where a listing stops. Pass NextCursor as the cursor
// query parameter to read the next page.
type Pagination struct {
	Limit      int    `json:"limit"`
	HasNext    bool   `json:"has_next"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// TemplateSummary is one entry of GET /v1/templates.
type TemplateSummary struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	StepCount   int    `json:"step_count"`
}

// HealthResponse is the body of the health routes.
type HealthResponse struct {
	Status  string            `json:"status"`
	Version string            `json:"version,omitempty"`
	Checks  map[string]string `json:"checks,omitempty"`
}

// ErrorResponse is the error envelope every failed request is answered with.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong. Code is stable and meant for programs
// (see the Code constants); Message is for people; Field, when set, names
// the request field, query parameter or path parameter at fault.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error codes of the error envelope.
const (
	CodeInvalidRequest   = "invalid_request"     // 400: a field, parameter or the body is invalid
	CodeInvalidJSON      = "invalid_json"        // 400: the body is not valid JSON
	CodeInvalidContext   = "invalid_context"     // 400: the context violates the template's input_schema
	CodeInvalidTemplate  = "invalid_template"    // 400: POST /v1/templates got an invalid template
	CodeNotFound         = "not_found"           // 404: no such route
	CodeTaskNotFound     = "task_not_found"      // 404
	CodeStepNotFound     = "step_not_found"      // 404
	CodeTemplateNotFound = "template_not_found"  // 404
	CodeMethodNotAllowed = "method_not_allowed"  // 405
	CodeDLQEntryNotFound = "dlq_entry_not_found" // 404
	CodeDuplicateTask    = "duplicate_task"      // 409: a task with the same identity exists
	CodeConflict         = "conflict"            // 409: the task has finished, or it changed meanwhile
	CodeInvalidState     = "invalid_state"       // 409: the step's state does not allow the action
	CodePayloadTooLarge  = "payload_too_large"   // 413
	CodeInternal         = "internal"            // 500: see the logs for the request id
	CodeUnavailable      = "unavailable"         // 503: try again shortly
)

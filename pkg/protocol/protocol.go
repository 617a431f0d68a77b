// Package protocol defines the messages that travel on Tasker's SQS queues:
// the step message a worker receives from its namespace queue, the result
// message a worker sends back on the results queue, and the orchestration
// message the engine sends to itself. It is the wire contract shared by the
// engine, the Go worker SDK and workers in other languages.
//
// All JSON payloads supplied by users (task context, handler configuration,
// parent results, step results) are kept as json.RawMessage so that numbers
// keep their exact textual form end to end.
package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Version is the wire-contract version carried in every message as "v".
const Version = 1

// MaxInlineBytes is the largest message body Tasker sends inline. Larger
// payloads are stored in DynamoDB and referenced by PayloadRef. It stays well
// under SQS's 256 KiB limit so attributes and envelope fit too.
const MaxInlineBytes = 200 * 1024

// Status is the outcome of one step attempt as reported by a worker.
type Status string

// Outcomes a worker can report.
const (
	StatusSuccess        Status = "success"
	StatusRetryableError Status = "retryable_error"
	StatusPermanentError Status = "permanent_error"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusSuccess, StatusRetryableError, StatusPermanentError:
		return true
	}
	return false
}

// PayloadRef points at a payload stored in the state table because it was too
// large to travel inline. Chunks are items (PK, SK+"#0000"), (PK, SK+"#0001"), …
type PayloadRef struct {
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	Chunks int    `json:"chunks"`
	Bytes  int    `json:"bytes"`
}

// StepPayload is the part of a step message that may be moved out of line.
type StepPayload struct {
	// Context is the task context (a JSON object).
	Context json.RawMessage `json:"context,omitempty"`
	// Config is the handler's initialization map from the template.
	Config json.RawMessage `json:"config,omitempty"`
	// Parents maps each direct parent step name to its result.
	Parents map[string]json.RawMessage `json:"parents,omitempty"`
	// ParentErrors holds the errors of parents that failed for good but
	// still release this step (batch workers under continue_on_failure).
	ParentErrors map[string]*StepError `json:"parent_errors,omitempty"`
	// BatchParents names the parents that are batch worker instances.
	BatchParents []string `json:"batch_parents,omitempty"`
	// Inputs carries step inputs created at run time (batch cursor and metadata).
	Inputs json.RawMessage `json:"inputs,omitempty"`
	// Checkpoint is the last checkpoint a batch worker saved, if any.
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
}

// StepMessage is sent to a namespace's step queue when a step is enqueued.
type StepMessage struct {
	V             int    `json:"v"`
	TaskUUID      string `json:"task_uuid"`
	StepUUID      string `json:"step_uuid"`
	StepName      string `json:"step_name"`
	Namespace     string `json:"namespace"`
	TaskName      string `json:"task_name"`
	TaskVersion   string `json:"task_version"`
	Handler       string `json:"handler"`
	StepType      string `json:"step_type,omitempty"`
	Attempt       int    `json:"attempt"`
	MaxAttempts   int    `json:"max_attempts"`
	TimeoutSecs   int    `json:"timeout_seconds,omitempty"`
	CorrelationID string `json:"correlation_id"`
	// EnqueuedAt is when the engine enqueued this attempt (RFC 3339, UTC).
	EnqueuedAt time.Time `json:"enqueued_at"`
	// FromState is the step's stored state the claim moves from: empty (or
	// "enqueued") for a step stored as enqueued, "pending" for a step the
	// engine sent without storing the enqueue (docs/protocol.md §5).
	FromState string `json:"from_state,omitempty"`
	StepPayload
	// PayloadRef is set instead of StepPayload's fields when the payload is stored out of line.
	PayloadRef *PayloadRef `json:"payload_ref,omitempty"`
}

// The states a step message's claim moves from (StepMessage.FromState).
const (
	FromEnqueued = "enqueued"
	FromPending  = "pending"
)

// ClaimsPending reports whether the claim of this message moves the step
// from pending (the engine did not store the enqueue).
func (m *StepMessage) ClaimsPending() bool { return m.FromState == FromPending }

// IdempotencyKey is the key handlers pass to external systems: the step's UUID,
// stable across attempts.
func (m *StepMessage) IdempotencyKey() string { return m.StepUUID }

// Validate checks the fields every consumer relies on.
func (m *StepMessage) Validate() error {
	var errs []error
	if m.V != Version {
		errs = append(errs, fmt.Errorf("v: unsupported version %d (want %d)", m.V, Version))
	}
	errs = append(errs, required("task_uuid", m.TaskUUID), required("step_uuid", m.StepUUID),
		required("step_name", m.StepName), required("handler", m.Handler), required("namespace", m.Namespace))
	if m.TaskUUID != "" {
		errs = append(errs, checkUUID("task_uuid", m.TaskUUID))
	}
	if m.StepName != "" {
		errs = append(errs, checkStepName("step_name", m.StepName))
	}
	switch m.FromState {
	case "", FromEnqueued, FromPending:
	default:
		errs = append(errs, fmt.Errorf("from_state: must be %q or %q, got %q", FromEnqueued, FromPending, m.FromState))
	}
	if m.Attempt < 1 {
		errs = append(errs, fmt.Errorf("attempt: must be >= 1, got %d", m.Attempt))
	}
	return joinInvalid(errs)
}

// StepError describes a failed attempt.
type StepError struct {
	Message   string `json:"message"`
	ErrorType string `json:"error_type,omitempty"`
	Retryable bool   `json:"retryable"`
	// RetryAfterSeconds is a handler-supplied delay before the next attempt.
	RetryAfterSeconds float64         `json:"retry_after_seconds,omitempty"`
	StatusCode        int             `json:"status_code,omitempty"`
	Context           json.RawMessage `json:"context,omitempty"`
	// Compensate asks, with a permanent failure, that the steps completed
	// so far be compensated (their templates' compensation handlers run in
	// reverse dependency order).
	Compensate bool `json:"compensate,omitempty"`
}

// ResultMessage is sent by a worker to the results queue after an attempt.
type ResultMessage struct {
	V             int    `json:"v"`
	TaskUUID      string `json:"task_uuid"`
	StepUUID      string `json:"step_uuid"`
	StepName      string `json:"step_name"`
	Attempt       int    `json:"attempt"`
	CorrelationID string `json:"correlation_id"`
	Status        Status `json:"status"`
	// Result is the handler's JSON result on success. It may embed
	// "decision_point_outcome" or "batch_processing_outcome".
	Result     json.RawMessage `json:"result,omitempty"`
	ResultRef  *PayloadRef     `json:"result_ref,omitempty"`
	Error      *StepError      `json:"error,omitempty"`
	WorkerID   string          `json:"worker_id,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
}

// Validate checks a result message for the fields the engine relies on. A
// message that fails validation is a malicious or buggy worker's message: the
// engine records it as a permanent failure of the attempt where it can
// identify the step, and drops it otherwise.
func (m *ResultMessage) Validate() error {
	var errs []error
	if m.V != Version {
		errs = append(errs, fmt.Errorf("v: unsupported version %d (want %d)", m.V, Version))
	}
	errs = append(errs, required("task_uuid", m.TaskUUID), required("step_name", m.StepName))
	errs = append(errs, m.checkIdentity()...)
	if m.Attempt < 1 {
		errs = append(errs, fmt.Errorf("attempt: must be >= 1, got %d", m.Attempt))
	}
	if !m.Status.Valid() {
		errs = append(errs, fmt.Errorf("status: unknown value %s", quoteShort(string(m.Status))))
	}
	if m.Status != StatusSuccess && m.Status.Valid() && m.Error == nil {
		errs = append(errs, errors.New("error: required when status is not success"))
	}
	errs = append(errs, checkResult(m.Result))
	if m.Error != nil {
		errs = append(errs, m.Error.validate()...)
	}
	return joinInvalid(errs)
}

// checkIdentity checks the fields that become keys (task_uuid, step_name)
// or are stored with the step (worker_id, correlation_id).
func (m *ResultMessage) checkIdentity() []error {
	var errs []error
	if m.TaskUUID != "" {
		errs = append(errs, checkUUID("task_uuid", m.TaskUUID))
	}
	if m.StepUUID != "" {
		errs = append(errs, checkUUID("step_uuid", m.StepUUID))
	}
	if m.StepName != "" {
		errs = append(errs, checkStepName("step_name", m.StepName))
	}
	return append(errs, checkLen("worker_id", m.WorkerID, MaxIDBytes), checkLen("correlation_id", m.CorrelationID, MaxIDBytes))
}

// checkResult bounds an inline result: valid JSON, at most MaxInlineBytes
// (larger results travel as result_ref), at most MaxJSONDepth deep.
func checkResult(result json.RawMessage) error {
	switch {
	case len(result) == 0:
		return nil
	case len(result) > MaxInlineBytes:
		return fmt.Errorf("result: %d bytes inline, at most %d (store a larger result and send result_ref)", len(result), MaxInlineBytes)
	case !json.Valid(result):
		return errors.New("result: not valid JSON")
	}
	if err := CheckJSONDepth(result, MaxJSONDepth); err != nil {
		return fmt.Errorf("result: %w", err)
	}
	return nil
}

// validate checks a failure's fields against the limits.
func (e *StepError) validate() []error {
	errs := []error{
		checkLen("error.message", e.Message, MaxErrorMessageBytes),
		checkLen("error.error_type", e.ErrorType, MaxErrorTypeBytes),
	}
	if e.RetryAfterSeconds < 0 || e.RetryAfterSeconds > MaxRetryAfterSeconds {
		errs = append(errs, fmt.Errorf("error.retry_after_seconds: must be between 0 and %d, got %v", MaxRetryAfterSeconds, e.RetryAfterSeconds))
	}
	if len(e.Context) > 0 {
		if len(e.Context) > MaxErrorContextBytes {
			return append(errs, fmt.Errorf("error.context: %d bytes, at most %d", len(e.Context), MaxErrorContextBytes))
		}
		if err := CheckJSONDepth(e.Context, MaxJSONDepth); err != nil {
			errs = append(errs, fmt.Errorf("error.context: %w", err))
		}
	}
	return errs
}

// OrchestrationKind names what an orchestration message asks for.
type OrchestrationKind string

// Orchestration message kinds.
const (
	// KindStartTask creates a task's initial steps (if missing) and enqueues the ready ones.
	KindStartTask OrchestrationKind = "start_task"
	// KindRetryStep moves a step out of waiting_for_retry and enqueues it.
	KindRetryStep OrchestrationKind = "retry_step"
	// KindRedriveTask re-examines every step of a task and enqueues the ready ones.
	KindRedriveTask OrchestrationKind = "redrive_task"
	// KindFireSchedule creates the task of one slot of a template schedule
	// (sent by EventBridge Scheduler in AWS).
	KindFireSchedule OrchestrationKind = "fire_schedule"
	// KindCheckTask is a running task's first check (sent delayed at its
	// creation): lost messages, claims past their deadline, staleness.
	KindCheckTask OrchestrationKind = "check_task"
)

// OrchestrationMessage is sent to the orchestration queue.
type OrchestrationMessage struct {
	V             int               `json:"v"`
	Kind          OrchestrationKind `json:"kind"`
	TaskUUID      string            `json:"task_uuid,omitempty"`
	StepName      string            `json:"step_name,omitempty"`
	Attempt       int               `json:"attempt,omitempty"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	// fire_schedule: the template version, the schedule's name and the
	// slot (RFC 3339, UTC).
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Schedule  string `json:"schedule,omitempty"`
	Slot      string `json:"slot,omitempty"`
}

// Validate checks an orchestration message.
func (m *OrchestrationMessage) Validate() error {
	var errs []error
	if m.V != Version {
		errs = append(errs, fmt.Errorf("v: unsupported version %d (want %d)", m.V, Version))
	}
	switch m.Kind {
	case KindStartTask, KindRedriveTask, KindCheckTask:
		errs = append(errs, checkUUID("task_uuid", m.TaskUUID))
	case KindRetryStep:
		errs = append(errs, checkUUID("task_uuid", m.TaskUUID), checkStepName("step_name", m.StepName))
	case KindFireSchedule:
		errs = append(errs, required("namespace", m.Namespace), required("name", m.Name), required("version", m.Version),
			required("schedule", m.Schedule))
		if _, err := time.Parse(time.RFC3339, m.Slot); err != nil {
			errs = append(errs, fmt.Errorf("slot: must be an RFC 3339 time: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("kind: unknown value %q", m.Kind))
	}
	return joinInvalid(errs)
}

// ErrInvalidMessage is wrapped by every validation error in this package.
var ErrInvalidMessage = errors.New("invalid message")

func required(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s: required", field)
	}
	return nil
}

func joinInvalid(errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return nil
}

// Decode parses and validates a message body of type M.
func Decode[M any, PM interface {
	*M
	Validate() error
}](body []byte) (*M, error) {
	var m M
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := PM(&m).Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// Error types the worker itself reports in protocol.StepError.ErrorType.
const (
	// ErrorTypeTimeout: the handler's context deadline passed.
	ErrorTypeTimeout = "timeout"
	// ErrorTypeCancelled: the handler's context was cancelled by the caller
	// of Process (not by Poll's shutdown, which lets handlers finish).
	ErrorTypeCancelled = "cancelled"
	// ErrorTypePanic: the handler panicked; the panic value is the message.
	ErrorTypePanic = "panic"
	// ErrorTypeHandlerNotFound: no handler is registered for the step's callable.
	ErrorTypeHandlerNotFound = "handler_not_found"
	// ErrorTypeInvalidResult: the handler's result is not valid JSON or
	// embeds a malformed decision or batch outcome.
	ErrorTypeInvalidResult = "invalid_result"
	// ErrorTypeResultTooLarge: the result exceeds what the store can hold.
	ErrorTypeResultTooLarge = "result_too_large"
	// ErrorTypeInvalidPayload: the step's out-of-line payload is missing or
	// is not a valid step payload.
	ErrorTypeInvalidPayload = "invalid_payload"
)

// Error is a failed attempt as a handler reports it. Retryable says whether
// the engine may run the step again (if attempts remain); RetryAfter asks for
// a minimum delay before that. Type is a short machine-readable class
// ("card_declined", "rate_limited"); Context is JSON detail stored with the
// step for operators.
//
// Build one with Retryable, Permanent or RetryAfter and refine it with
// WithType and WithContext. Its JSON form is protocol.StepError's, so the
// retryable flag survives a trip through JSON.
type Error struct {
	Message    string
	Type       string
	Retryable  bool
	RetryAfter time.Duration
	Context    json.RawMessage
	// Compensate, on a permanent failure, asks for the task's completed
	// steps to be compensated (see WithCompensation).
	Compensate bool
	// Err is the underlying error, if any; Unwrap returns it.
	Err error
}

// WithCompensation marks a permanent failure as one that must undo the work
// done so far: the task's completed steps that declare a compensation
// handler are compensated in reverse dependency order (a saga). It has no
// effect on a retryable failure until its retries are exhausted.
func (e *Error) WithCompensation() *Error {
	e.Compensate = true
	return e
}

// Retryable marks err as a failure that may succeed when tried again. The
// message is err.Error(); when err already holds an *Error, its type,
// context and retry-after are kept.
func Retryable(err error) *Error { return classify(err, true) }

// Permanent marks err as a failure that will not succeed however often it is
// tried (invalid input, a business rule). The step fails without retries.
// The message is err.Error(); when err already holds an *Error, its type and
// context are kept.
func Permanent(err error) *Error {
	e := classify(err, false)
	e.RetryAfter = 0
	return e
}

// RetryAfter marks err as retryable no sooner than d from now, e.g. for a
// rate limit that names its reset time.
func RetryAfter(err error, d time.Duration) *Error {
	e := classify(err, true)
	e.RetryAfter = d
	return e
}

func classify(err error, retryable bool) *Error {
	e := &Error{Retryable: retryable, Err: err}
	var inner *Error
	if errors.As(err, &inner) {
		e.Type, e.Context, e.RetryAfter, e.Compensate = inner.Type, inner.Context, inner.RetryAfter, inner.Compensate
	}
	if err != nil {
		e.Message = err.Error()
	}
	return e
}

// WithType sets the error's type and returns e.
func (e *Error) WithType(t string) *Error {
	e.Type = t
	return e
}

// WithContext sets the error's context to v as JSON and returns e. A value
// that cannot be marshalled is replaced by {"context_error": "<why>"}, so
// the failure report itself never fails.
func (e *Error) WithContext(v any) *Error {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"context_error": err.Error()})
	}
	e.Context = b
	return e
}

// Error returns the message.
func (e *Error) Error() string {
	switch {
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	default:
		return "unknown error"
	}
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// StepError returns the wire form of e.
func (e *Error) StepError() *protocol.StepError {
	se := &protocol.StepError{
		Message:    e.Error(),
		ErrorType:  e.Type,
		Retryable:  e.Retryable,
		Context:    e.Context,
		Compensate: e.Compensate,
	}
	if e.Retryable && e.RetryAfter > 0 {
		se.RetryAfterSeconds = e.RetryAfter.Seconds()
	}
	return se
}

// FromStepError returns the *Error a wire error describes (nil for nil).
func FromStepError(se *protocol.StepError) *Error {
	if se == nil {
		return nil
	}
	return &Error{
		Message:    se.Message,
		Type:       se.ErrorType,
		Retryable:  se.Retryable,
		RetryAfter: secondsToDuration(se.RetryAfterSeconds),
		Context:    se.Context,
		Compensate: se.Compensate,
	}
}

func secondsToDuration(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	if s >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

// MarshalJSON encodes e as a protocol.StepError.
func (e *Error) MarshalJSON() ([]byte, error) { return json.Marshal(e.StepError()) }

// UnmarshalJSON decodes a protocol.StepError into e. The underlying error
// does not travel; Err is nil afterwards.
func (e *Error) UnmarshalJSON(b []byte) error {
	var se protocol.StepError
	if err := json.Unmarshal(b, &se); err != nil {
		return fmt.Errorf("decode step error: %w", err)
	}
	*e = *FromStepError(&se)
	return nil
}

// Sentinel errors callers branch on (with errors.Is).
var (
	// ErrNoParent is returned when a step has no result for the named parent.
	ErrNoParent = errors.New("no such parent")
	// ErrNotBatchWorker is returned by Step.BatchInputs for a step that is
	// not a batch worker instance.
	ErrNotBatchWorker = errors.New("not a batch worker")
	// ErrCheckpointTooLarge is returned by Step.Checkpoint when the encoded
	// checkpoint exceeds MaxCheckpointBytes.
	ErrCheckpointTooLarge = errors.New("checkpoint too large")
	// ErrAttemptSuperseded is returned by Step.Checkpoint when the step is no
	// longer in progress on this attempt (it was reclaimed or cancelled).
	// The handler should stop: its result will be ignored.
	ErrAttemptSuperseded = errors.New("attempt superseded")
	// ErrInvalidConfig is wrapped by New's and Poll's configuration errors.
	ErrInvalidConfig = errors.New("invalid worker config")
)

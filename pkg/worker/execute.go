package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// overrunGrace is how long a handler may run past its deadline before the
// worker reports a timeout without waiting for it. The abandoned handler
// keeps running in its goroutine, but its result is discarded.
const overrunGrace = 2 * time.Second

// execute runs the handler for a claimed step and returns the result
// message to send.
func (w *Worker) execute(ctx context.Context, msg *protocol.StepMessage, claimed *workflow.Step, start time.Time) *protocol.ResultMessage {
	h, ok := w.registry.Lookup(msg.Handler)
	if !ok {
		return w.failureMessage(msg, start, Permanent(fmt.Errorf("no handler registered for %q", msg.Handler)).
			WithType(ErrorTypeHandlerNotFound))
	}
	res, err := w.invoke(ctx, h, w.newStep(msg, claimed), stepTimeout(msg))
	if err != nil {
		return w.failureMessage(msg, start, asStepFailure(err))
	}
	data, verr := checkResult(res)
	if verr != nil {
		return w.failureMessage(msg, start, verr)
	}
	m := w.resultMessage(msg, start, protocol.StatusSuccess)
	m.Result = data
	return m
}

func (w *Worker) newStep(msg *protocol.StepMessage, claimed *workflow.Step) *Step {
	s := &Step{
		TaskUUID: msg.TaskUUID, StepUUID: msg.StepUUID, Name: msg.StepName, Type: msg.StepType,
		Namespace: msg.Namespace, TaskName: msg.TaskName, TaskVersion: msg.TaskVersion,
		Handler: msg.Handler, CorrelationID: msg.CorrelationID,
		Attempt: msg.Attempt, MaxAttempts: msg.MaxAttempts,
		Context: msg.Context, Config: msg.Config, Parents: msg.Parents, Inputs: msg.Inputs,
		ParentErrors: msg.ParentErrors, BatchParents: msg.BatchParents,
		LastCheckpoint: msg.Checkpoint,
		now:            w.clock,
	}
	if claimed != nil {
		// The claimed item is the freshest record of inputs and checkpoint.
		if len(claimed.Checkpoint) > 0 {
			s.LastCheckpoint = claimed.Checkpoint
		}
		if len(s.Inputs) == 0 {
			s.Inputs = claimed.Inputs
		}
	}
	s.saveCheckpoint = func(ctx context.Context, checkpoint json.RawMessage) error {
		return w.store.SaveCheckpoint(ctx, msg.TaskUUID, msg.StepName, msg.Attempt, checkpoint, w.clock())
	}
	return s
}

type handlerReturn struct {
	res Result
	err error
}

// invoke runs h with the step's deadline, turning a panic into a retryable
// error. A handler that ignores its context is abandoned overrunGrace after
// the deadline.
func (w *Worker) invoke(ctx context.Context, h Handler, step *Step, timeout time.Duration) (Result, error) {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan handlerReturn, 1)
	go func() {
		var r handlerReturn
		defer func() {
			if p := recover(); p != nil {
				w.log.LogAttrs(ctx, slog.LevelError, "step handler panicked",
					slog.String("task_uuid", step.TaskUUID), slog.String("step_uuid", step.StepUUID), slog.String("step", step.Name),
					slog.String("namespace", step.Namespace), slog.String("correlation_id", step.CorrelationID),
					slog.Int("attempt", step.Attempt),
					slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				r = handlerReturn{err: &Error{Message: fmt.Sprintf("panic: %v", p), Type: ErrorTypePanic, Retryable: true}}
			}
			done <- r
		}()
		r.res, r.err = h.Handle(hctx, step)
	}()
	var r handlerReturn
	select {
	case r = <-done:
	case <-hctx.Done():
		select {
		case r = <-done:
		case <-time.After(overrunGrace):
			r.err = fmt.Errorf("handler did not return within %s of its deadline: %w", overrunGrace, hctx.Err())
		}
	}
	var classified *Error
	if r.err != nil && !errors.As(r.err, &classified) && errors.Is(hctx.Err(), context.DeadlineExceeded) {
		// Past the deadline, a plain error is the deadline's doing even if
		// the library that returned it did not wrap context.DeadlineExceeded.
		r.err = &Error{Message: r.err.Error(), Type: ErrorTypeTimeout, Retryable: true, Err: r.err}
	}
	return r.res, r.err
}

// asStepFailure classifies a handler's error. A *Error, even wrapped, keeps
// its class (the message is the outermost error's). A deadline is a
// retryable "timeout", a cancellation a retryable "cancelled", and any other
// error is retryable, because an unknown failure is assumed to be transient.
func asStepFailure(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		out.Message = err.Error() // includes any context wrapped around the *Error
		if out.Type == "" {
			out.Type = contextErrType(err)
		}
		return &out
	}
	return Retryable(err).WithType(contextErrType(err))
}

func contextErrType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		return ErrorTypeCancelled
	}
	return ""
}

// checkResult validates a handler's result: valid JSON whose embedded
// outcomes, if any, the engine can read. An empty result is {}.
func checkResult(res Result) (json.RawMessage, *Error) {
	data := res.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	if !json.Valid(data) {
		return nil, Permanent(errors.New("handler result is not valid JSON")).WithType(ErrorTypeInvalidResult)
	}
	if _, err := protocol.ExtractOutcomes(data); err != nil {
		return nil, Permanent(fmt.Errorf("handler result: %w", err)).WithType(ErrorTypeInvalidResult)
	}
	return data, nil
}

func (w *Worker) resultMessage(msg *protocol.StepMessage, start time.Time, status protocol.Status) *protocol.ResultMessage {
	return &protocol.ResultMessage{
		V: protocol.Version, TaskUUID: msg.TaskUUID, StepUUID: msg.StepUUID, StepName: msg.StepName,
		Attempt: msg.Attempt, CorrelationID: msg.CorrelationID, Status: status,
		WorkerID: w.id, StartedAt: start.UTC(),
	}
}

func (w *Worker) failureMessage(msg *protocol.StepMessage, start time.Time, e *Error) *protocol.ResultMessage {
	status := protocol.StatusPermanentError
	if e.Retryable {
		status = protocol.StatusRetryableError
	}
	m := w.resultMessage(msg, start, status)
	m.Error = boundStepError(e.StepError())
	return m
}

// Limits that keep a failure report well inside one SQS message.
const (
	maxErrorMessageBytes = 4 * 1024
	maxErrorContextBytes = 32 * 1024
)

// boundStepError truncates an oversized message and replaces an oversized
// context with a note of its size.
func boundStepError(se *protocol.StepError) *protocol.StepError {
	if len(se.Message) > maxErrorMessageBytes {
		se.Message = truncateUTF8(se.Message, maxErrorMessageBytes) + "…(truncated)"
	}
	if len(se.Context) > 0 && (len(se.Context) > maxErrorContextBytes || !json.Valid(se.Context)) {
		se.Context, _ = json.Marshal(map[string]any{"context_dropped": true, "bytes": len(se.Context), "valid_json": json.Valid(se.Context)})
	}
	return se
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

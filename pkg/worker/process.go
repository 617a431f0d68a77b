package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Outcomes of processing one message, as logged in the "outcome" attribute.
const (
	outcomeSuccess      = string(protocol.StatusSuccess)
	outcomeRetryable    = string(protocol.StatusRetryableError)
	outcomePermanent    = string(protocol.StatusPermanentError)
	outcomeDuplicate    = "duplicate"      // claim conflict: acked, handler not run
	outcomeStepNotFound = "step_not_found" // the step does not exist: acked
	outcomeMalformed    = "malformed"      // not a step message: acked
	outcomeRedeliver    = "redeliver"      // infrastructure error: left for redelivery
)

// Process handles one step message body: decode, claim, run the handler and
// send the result. It returns nil when the message is done with and must be
// deleted (a result was sent, or the message is a duplicate, stale or
// malformed) and an error when it must stay on the queue to be redelivered
// (the store or the results queue failed).
func (w *Worker) Process(ctx context.Context, body []byte) error {
	msg, err := protocol.Decode[protocol.StepMessage](body)
	if err != nil {
		w.malformed(ctx, body, err)
		return nil
	}
	return w.handleMessage(ctx, msg)
}

func (w *Worker) malformed(ctx context.Context, body []byte, err error) {
	w.log.LogAttrs(ctx, slog.LevelError, "step message rejected",
		slog.String("outcome", outcomeMalformed), slog.Int("bytes", len(body)), slog.String("error", err.Error()))
	if w.onMalformed != nil {
		w.onMalformed(ctx, body, err)
	}
}

// handleMessage runs the attempt a valid step message asks for.
func (w *Worker) handleMessage(ctx context.Context, msg *protocol.StepMessage) error {
	clk := attemptClock{start: w.clock()}
	if w.observer != nil {
		ctx = w.observer.StartAttempt(ctx, msg)
	}
	payloadErr := w.loadPayload(ctx, msg)
	if payloadErr != nil && !isPermanentPayloadErr(payloadErr) {
		w.endAttempt(ctx, msg, outcomeRedeliver, &clk, nil, payloadErr)
		return payloadErr
	}
	claimed, err := w.claim(ctx, msg, clk.start)
	switch {
	case errors.Is(err, workflow.ErrConflict):
		w.endAttempt(ctx, msg, outcomeDuplicate, &clk, nil, nil)
		return nil
	case errors.Is(err, workflow.ErrNotFound):
		w.endAttempt(ctx, msg, outcomeStepNotFound, &clk, nil, nil)
		return nil
	case err != nil:
		err = fmt.Errorf("claim step %s: %w", msg.StepName, err)
		w.endAttempt(ctx, msg, outcomeRedeliver, &clk, nil, err)
		return err
	}
	clk.claimed = w.clock()
	var res *protocol.ResultMessage
	if payloadErr != nil {
		res = w.failureMessage(msg, clk.start, Permanent(payloadErr).WithType(ErrorTypeInvalidPayload))
	} else {
		res = w.execute(ctx, msg, claimed, clk.start)
		clk.executed = w.clock()
	}
	if err := w.report(ctx, msg, res); err != nil {
		w.endAttempt(ctx, msg, outcomeRedeliver, &clk, nil, err)
		return err
	}
	w.endAttempt(ctx, msg, string(res.Status), &clk, res, nil)
	return nil
}

// loadPayload replaces the message's payload with the stored one when it
// travelled out of line.
func (w *Worker) loadPayload(ctx context.Context, msg *protocol.StepMessage) error {
	if msg.PayloadRef == nil {
		return nil
	}
	if err := checkPayloadRef(msg.PayloadRef); err != nil {
		return &payloadError{err}
	}
	data, err := w.store.LoadPayload(ctx, msg.PayloadRef)
	if err != nil {
		return fmt.Errorf("load step payload: %w", err)
	}
	if err := json.Unmarshal(data, &msg.StepPayload); err != nil {
		return &payloadError{fmt.Errorf("decode step payload: %w", err)}
	}
	return nil
}

// MaxPayloadBytes is the largest out-of-line payload a worker loads; it
// matches the store's limit (dynamo.MaxPayloadBytes).
const MaxPayloadBytes = 8 * 1024 * 1024

// checkPayloadRef rejects a reference no store could have written, before
// the store allocates a buffer of the size it claims.
func checkPayloadRef(ref *protocol.PayloadRef) error {
	if ref.PK == "" || ref.SK == "" || ref.Chunks < 1 || ref.Bytes < 0 || ref.Bytes > MaxPayloadBytes {
		return fmt.Errorf("invalid payload_ref (pk %q, sk %q, %d chunks, %d bytes)", ref.PK, ref.SK, ref.Chunks, ref.Bytes)
	}
	return nil
}

// payloadError marks a stored payload that can never be used.
type payloadError struct{ err error }

func (e *payloadError) Error() string { return e.err.Error() }
func (e *payloadError) Unwrap() error { return e.err }

// isPermanentPayloadErr reports whether a payload problem will not go away
// on redelivery: the payload is missing (reads are strongly consistent) or
// is not a step payload.
func isPermanentPayloadErr(err error) bool {
	var pe *payloadError
	return errors.As(err, &pe) || errors.Is(err, workflow.ErrNotFound) || errors.Is(err, workflow.ErrTooLarge)
}

func stepTimeout(msg *protocol.StepMessage) time.Duration {
	if msg.TimeoutSecs > 0 {
		return time.Duration(msg.TimeoutSecs) * time.Second
	}
	return DefaultTimeout
}

// claim claims the step for the message's attempt from the state the
// message names (docs/protocol.md §5).
func (w *Worker) claim(ctx context.Context, msg *protocol.StepMessage, now time.Time) (*workflow.Step, error) {
	if msg.ClaimsPending() {
		return w.store.ClaimPendingStep(ctx, msg.TaskUUID, msg.StepName, msg.Attempt, stepTimeout(msg),
			w.id, msg.CorrelationID, msg.EnqueuedAt, now)
	}
	return w.store.ClaimStep(ctx, msg.TaskUUID, msg.StepName, msg.Attempt, stepTimeout(msg), w.id, msg.CorrelationID, now)
}

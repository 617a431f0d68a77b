package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqstrace"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// AttrCorrelationID is the SQS message attribute carrying the correlation ID
// of a result message.
const AttrCorrelationID = "correlation_id"

// reportTimeout bounds storing and sending one result. Reporting is detached
// from the caller's cancellation: once a step is claimed, its result is worth
// delivering even while the worker shuts down.
const reportTimeout = 30 * time.Second

// report stores an oversized result out of line and sends the result
// message to the results queue.
func (w *Worker) report(ctx context.Context, msg *protocol.StepMessage, res *protocol.ResultMessage) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	defer cancel()
	if len(res.Result) > protocol.MaxInlineBytes {
		if err := w.storeResult(ctx, msg, res); err != nil {
			return err
		}
	}
	res.FinishedAt = w.clock().UTC()
	if w.sink != nil {
		err := w.sink.HandleResult(ctx, res)
		if err == nil {
			return nil
		}
		w.log.LogAttrs(ctx, slog.LevelWarn, "applying the result in process failed; sending it to the results queue",
			slog.String("task_uuid", res.TaskUUID), slog.String("step_uuid", res.StepUUID), slog.String("step", res.StepName),
			slog.String("namespace", msg.Namespace), slog.String("correlation_id", res.CorrelationID),
			slog.Int("attempt", res.Attempt), slog.String("error", err.Error()))
		// The sink may have used up the deadline; the fallback gets its own.
		var cancel2 context.CancelFunc
		ctx, cancel2 = context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
		defer cancel2()
	}
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result of %s: %w", msg.StepName, err)
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(w.resultsURL), MessageBody: aws.String(string(body))}
	if res.CorrelationID != "" {
		in.MessageAttributes = map[string]types.MessageAttributeValue{
			AttrCorrelationID: {DataType: aws.String("String"), StringValue: aws.String(res.CorrelationID)},
		}
	}
	in.MessageAttributes = sqstrace.Inject(ctx, in.MessageAttributes)
	if _, err := w.sqs.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send result of %s: %w", msg.StepName, err)
	}
	return nil
}

// storeResult moves res.Result into the store and sets res.ResultRef. A
// result the store cannot hold becomes a permanent failure.
func (w *Worker) storeResult(ctx context.Context, msg *protocol.StepMessage, res *protocol.ResultMessage) error {
	id := fmt.Sprintf("%s#%d#result", msg.StepName, msg.Attempt)
	ref, err := w.store.SavePayload(ctx, msg.TaskUUID, id, res.Result)
	switch {
	case errors.Is(err, workflow.ErrTooLarge):
		failed := w.failureMessage(msg, res.StartedAt, Permanent(err).WithType(ErrorTypeResultTooLarge))
		*res = *failed
		return nil
	case err != nil:
		return fmt.Errorf("store result of %s: %w", msg.StepName, err)
	}
	res.Result, res.ResultRef = nil, ref
	return nil
}

// logAttempt writes the line describing how one message ended.
func (w *Worker) logAttempt(ctx context.Context, msg *protocol.StepMessage, outcome string, start, end time.Time, extra ...slog.Attr) {
	level := slog.LevelInfo
	switch outcome {
	case outcomeRetryable, outcomeDuplicate, outcomeStepNotFound:
		level = slog.LevelWarn
	case outcomePermanent, outcomeRedeliver:
		level = slog.LevelError
	}
	attrs := append([]slog.Attr{
		slog.String("task_uuid", msg.TaskUUID),
		slog.String("step_uuid", msg.StepUUID),
		slog.String("step", msg.StepName),
		slog.String("namespace", msg.Namespace),
		slog.String("handler", msg.Handler),
		slog.String("correlation_id", msg.CorrelationID),
		slog.Int("attempt", msg.Attempt),
		slog.String("outcome", outcome),
		slog.Int64("duration_ms", end.Sub(start).Milliseconds()),
		slog.String("worker_id", w.id),
	}, extra...)
	w.log.LogAttrs(ctx, level, "step attempt", attrs...)
}

// endAttempt logs how a message ended and tells the Observer.
func (w *Worker) endAttempt(ctx context.Context, msg *protocol.StepMessage, outcome string, clk *attemptClock,
	res *protocol.ResultMessage, err error) {
	end := w.clock()
	switch {
	case res != nil:
		w.logResult(ctx, msg, res)
	case err != nil:
		w.logAttempt(ctx, msg, outcome, clk.start, end, slog.String("error", err.Error()))
	default:
		w.logAttempt(ctx, msg, outcome, clk.start, end)
	}
	if w.observer != nil {
		w.observer.EndAttempt(ctx, Attempt{Message: msg, Outcome: outcome, Start: clk.start, Claimed: clk.claimed,
			Executed: clk.executed, End: end, Result: res, Err: err})
	}
}

func (w *Worker) logResult(ctx context.Context, msg *protocol.StepMessage, res *protocol.ResultMessage) {
	var extra []slog.Attr
	if res.Error != nil {
		extra = append(extra, slog.String("error_type", res.Error.ErrorType), slog.String("error", res.Error.Message))
	}
	if res.ResultRef != nil {
		extra = append(extra, slog.Int("result_bytes", res.ResultRef.Bytes), slog.Bool("result_out_of_line", true))
	}
	w.logAttempt(ctx, msg, string(res.Status), res.StartedAt, res.FinishedAt, extra...)
}

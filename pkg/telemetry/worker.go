package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// WorkerObserver returns the worker.Config.Observer that records step
// attempt metrics and a span per attempt (a child of the span whose
// context came with the step message, else of the task's root span). It
// returns nil on a nil Telemetry.
func (t *Telemetry) WorkerObserver() worker.Observer {
	if t == nil {
		return nil
	}
	return workerObserver{t}
}

type workerObserver struct{ t *Telemetry }

func (o workerObserver) StartAttempt(ctx context.Context, msg *protocol.StepMessage) context.Context {
	t := o.t
	t.Metrics.stepsActive.Add(ctx, 1)
	if !msg.EnqueuedAt.IsZero() {
		if wait := time.Since(msg.EnqueuedAt); wait >= 0 {
			t.Metrics.queueAge.Record(ctx, wait.Seconds(), metric.WithAttributes(attribute.String("namespace", msg.Namespace)))
		}
	}
	if !t.tracing {
		return ctx
	}
	ctx, _ = t.tracer.Start(TaskContext(ctx, msg.TaskUUID), "step "+msg.StepName,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("tasker.task_uuid", msg.TaskUUID),
			attribute.String("tasker.step_uuid", msg.StepUUID),
			attribute.String("tasker.step_name", msg.StepName),
			attribute.String("tasker.namespace", msg.Namespace),
			attribute.String("tasker.handler", msg.Handler),
			attribute.String("tasker.correlation_id", msg.CorrelationID),
			attribute.Int("tasker.attempt", msg.Attempt),
		))
	return ctx
}

func (o workerObserver) EndAttempt(ctx context.Context, a worker.Attempt) {
	t := o.t
	m := t.Metrics
	msg := a.Message
	set := metric.WithAttributeSet(attribute.NewSet(attribute.String("namespace", msg.Namespace), attribute.String("handler", msg.Handler)))
	m.stepsActive.Add(ctx, -1)
	if !a.Claimed.IsZero() {
		m.stepsClaimed.Add(ctx, 1, set)
		m.claimDuration.Record(ctx, a.Claimed.Sub(a.Start).Seconds(), set)
	}
	if !a.Executed.IsZero() {
		m.stepsExecutions.Add(ctx, 1, set)
		m.executionDuration.Record(ctx, a.Executed.Sub(a.Claimed).Seconds(), set)
	}
	switch a.Outcome {
	case "duplicate", "step_not_found":
		m.stepsDuplicates.Add(ctx, 1, metric.WithAttributes(attribute.String("namespace", msg.Namespace),
			attribute.String("reason", a.Outcome)))
	}
	if r := a.Result; r != nil {
		m.stepsResultsSent.Add(ctx, 1, set)
		if !a.Executed.IsZero() {
			m.resultSubmission.Record(ctx, a.End.Sub(a.Executed).Seconds(), set)
		}
		if r.Status == protocol.StatusSuccess {
			m.stepsSuccesses.Add(ctx, 1, set)
		} else {
			errType := ""
			if r.Error != nil {
				errType = r.Error.ErrorType
			}
			m.stepsFailures.Add(ctx, 1, metric.WithAttributes(attribute.String("namespace", msg.Namespace),
				attribute.String("handler", msg.Handler), attribute.String("error_type", errType),
				attribute.Bool("retryable", r.Status == protocol.StatusRetryableError)))
		}
	}
	if !t.tracing {
		return
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("tasker.outcome", a.Outcome))
	switch {
	case a.Err != nil:
		span.RecordError(a.Err)
		span.SetStatus(codes.Error, a.Outcome)
	case a.Result != nil && a.Result.Error != nil:
		span.SetAttributes(attribute.String("tasker.error_type", a.Result.Error.ErrorType))
		span.SetStatus(codes.Error, string(a.Result.Status))
	}
	span.End()
}

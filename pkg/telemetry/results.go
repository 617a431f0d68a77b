package telemetry

import (
	"bytes"
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// ApplyResult runs apply (the engine's HandleResult for msg) in a span,
// "apply result <step>", that is a child of the span in ctx (the worker's
// attempt, in process or from the result message's attributes) or else of
// the task's root span, and records how long it took; for a decision step
// it also records the decision point metrics. On a nil Telemetry it only
// calls apply.
func (t *Telemetry) ApplyResult(ctx context.Context, msg *protocol.ResultMessage, apply func(context.Context) error) error {
	if t == nil {
		return apply(ctx)
	}
	if t.tracing {
		var span trace.Span
		ctx, span = t.tracer.Start(TaskContext(ctx, msg.TaskUUID), "apply result "+msg.StepName,
			trace.WithAttributes(attribute.String("tasker.task_uuid", msg.TaskUUID),
				attribute.String("tasker.step_uuid", msg.StepUUID), attribute.String("tasker.step_name", msg.StepName),
				attribute.String("tasker.correlation_id", msg.CorrelationID),
				attribute.Int("tasker.attempt", msg.Attempt), attribute.String("tasker.status", string(msg.Status))))
		defer span.End()
	}
	start := time.Now()
	err := apply(ctx)
	d := time.Since(start).Seconds()
	status := metric.WithAttributes(attribute.String("status", string(msg.Status)))
	t.Metrics.resultProcessing.Record(ctx, d, status)
	if msg.Status == protocol.StatusSuccess && bytes.Contains(msg.Result, []byte(`"decision_point_outcome"`)) {
		if out, oerr := protocol.ExtractOutcomes(msg.Result); oerr == nil && out.Decision != nil {
			kind := metric.WithAttributes(attribute.String("type", out.Decision.Type))
			t.Metrics.decisions.Add(ctx, 1, kind)
			t.Metrics.decisionSteps.Add(ctx, int64(len(out.Decision.StepNames)), kind)
			t.Metrics.decisionDuration.Record(ctx, d, kind)
		}
	}
	endSpan(ctx, err)
	return err
}

// ApplyOrchestration runs apply (the engine's HandleOrchestration for m) in
// a span, "orchestration <kind>", in the task's trace.
func (t *Telemetry) ApplyOrchestration(ctx context.Context, m *protocol.OrchestrationMessage, apply func(context.Context) error) error {
	if t == nil || !t.tracing {
		return apply(ctx)
	}
	if m.TaskUUID != "" {
		ctx = TaskContext(ctx, m.TaskUUID)
	}
	ctx, span := t.tracer.Start(ctx, "orchestration "+string(m.Kind),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("tasker.task_uuid", m.TaskUUID), attribute.String("tasker.step_name", m.StepName),
			attribute.Int("tasker.attempt", m.Attempt), attribute.String("tasker.correlation_id", m.CorrelationID)))
	defer span.End()
	err := apply(ctx)
	endSpan(ctx, err)
	return err
}

// Sweep runs sweep (the engine's Sweep) and records the staleness and DLQ
// metrics from its report, in a "sweep" span of its own trace.
func (t *Telemetry) Sweep(ctx context.Context, sweep func(context.Context) (engine.SweepReport, error)) (engine.SweepReport, error) {
	if t == nil {
		return sweep(ctx)
	}
	start := time.Now()
	rep, err := sweep(ctx)
	m := t.Metrics
	m.stalenessRuns.Add(ctx, 1)
	m.stalenessDuration.Record(ctx, time.Since(start).Seconds())
	if rep.Stale > 0 {
		m.stalenessDetected.Add(ctx, int64(rep.Stale))
	}
	if rep.DeadLetters > 0 {
		m.dlqEntries.Add(ctx, int64(rep.DeadLetters))
	}
	t.countRecoveries(ctx, rep)
	if t.tracing && (rep.Examined > 0 || rep.DeadLetters > 0 || err != nil) {
		// Only a sweep that found work gets a span (one every few seconds
		// in dev would bury the tasks' traces). It is started afterwards,
		// outside the engine's context: the messages a sweep sends belong
		// to their tasks' traces, not the sweep's.
		_, span := t.tracer.Start(ctx, "sweep", trace.WithNewRoot(), trace.WithTimestamp(start),
			trace.WithAttributes(attribute.Int("tasker.sweep.examined", rep.Examined),
				attribute.Int("tasker.sweep.started", rep.Started), attribute.Int("tasker.sweep.resent", rep.Resent),
				attribute.Int("tasker.sweep.enqueued", rep.Enqueued),
				attribute.Int("tasker.sweep.timed_out", rep.TimedOut), attribute.Int("tasker.sweep.stale", rep.Stale),
				attribute.Int("tasker.sweep.dead_letters", rep.DeadLetters)))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "failed")
		}
		span.End()
	}
	return rep, err
}

func endSpan(ctx context.Context, err error) {
	if err == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	span.RecordError(err)
	span.SetStatus(codes.Error, "failed")
}

// ResultSink wraps the in-process result sink (the engine) so that each
// result is applied through ApplyResult. It returns next on a nil
// Telemetry.
func (t *Telemetry) ResultSink(next worker.ResultSink) worker.ResultSink {
	if t == nil || next == nil {
		return next
	}
	return resultSink{t: t, next: next}
}

type resultSink struct {
	t    *Telemetry
	next worker.ResultSink
}

func (s resultSink) HandleResult(ctx context.Context, msg *protocol.ResultMessage) error {
	return s.t.ApplyResult(ctx, msg, func(ctx context.Context) error { return s.next.HandleResult(ctx, msg) })
}

// EngineChecked is the engine's Checked hook: a task's first check that came
// as a message counts its recoveries as the sweeper's do.
func (t *Telemetry) EngineChecked() func(context.Context, engine.SweepReport) {
	if t == nil {
		return nil
	}
	return t.countRecoveries
}

// countRecoveries counts, by kind, what a sweep or a task's check did that
// no message brought.
func (t *Telemetry) countRecoveries(ctx context.Context, rep engine.SweepReport) {
	for _, r := range []struct {
		kind string
		n    int
	}{{"timed_out", rep.TimedOut}, {"resent", rep.Resent}, {"enqueued", rep.Enqueued}, {"started", rep.Started}, {"retried", rep.Retried}} {
		if r.n > 0 {
			t.Metrics.sweepRecoveries.Add(ctx, int64(r.n), metric.WithAttributes(attribute.String("kind", r.kind)))
		}
	}
}

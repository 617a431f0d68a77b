package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/telemetry"
)

// Scheduler handles the orchestration queue: task starts, due retries and
// re-drives.
type Scheduler struct {
	Engine      *engine.Engine
	Logger      *slog.Logger
	Concurrency int
	// Telemetry, when set, puts each message in a span of its task's trace.
	Telemetry *telemetry.Telemetry
}

// Handle processes one SQS batch from the orchestration queue.
func (s *Scheduler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := logger(s.Logger)
	return processBatch(ctx, log, ev, s.Concurrency, func(ctx context.Context, body []byte) error {
		m, err := protocol.Decode[protocol.OrchestrationMessage](body)
		if err != nil {
			log.ErrorContext(ctx, "malformed orchestration message dropped", "error", err)
			return nil
		}
		return s.Telemetry.ApplyOrchestration(ctx, m, func(ctx context.Context) error {
			return s.Engine.HandleOrchestration(ctx, m)
		})
	}), nil
}

// Results handles the results queue: every worker's step results.
type Results struct {
	Engine      *engine.Engine
	Logger      *slog.Logger
	Concurrency int
	// Telemetry, when set, applies each result in a span (a child of the
	// worker's, from the message's traceparent) and records its metrics.
	Telemetry *telemetry.Telemetry
}

// Handle processes one SQS batch from the results queue. A malformed result
// from a worker fails the step it names permanently, with the reason; one
// that names no step is logged and dropped.
func (r *Results) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := logger(r.Logger)
	return processBatch(ctx, log, ev, r.Concurrency, func(ctx context.Context, body []byte) error {
		m, err := protocol.Decode[protocol.ResultMessage](body)
		if err == nil {
			return r.Telemetry.ApplyResult(ctx, m, func(ctx context.Context) error { return r.Engine.HandleResult(ctx, m) })
		}
		var id struct {
			TaskUUID string `json:"task_uuid"`
			StepName string `json:"step_name"`
			Attempt  int    `json:"attempt"`
		}
		if json.Unmarshal(body, &id) != nil || id.TaskUUID == "" || id.StepName == "" || id.Attempt < 1 {
			log.ErrorContext(ctx, "malformed result message dropped", "error", err)
			return nil
		}
		log.ErrorContext(ctx, "malformed result message: failing the step", "task_uuid", id.TaskUUID, "step", id.StepName, "error", err)
		return r.Engine.RejectResult(ctx, id.TaskUUID, id.StepName, id.Attempt, err.Error())
	}), nil
}

// Sweeper runs the engine's sweep on a schedule.
type Sweeper struct {
	Engine *engine.Engine
	Logger *slog.Logger
	// Telemetry, when set, records the staleness and DLQ metrics.
	Telemetry *telemetry.Telemetry
}

// Handle runs one sweep. It returns an error only when the sweep could not
// run at all, so the schedule's retry policy applies.
func (s *Sweeper) Handle(ctx context.Context, _ events.EventBridgeEvent) (engine.SweepReport, error) {
	rep, err := s.Telemetry.Sweep(ctx, s.Engine.Sweep)
	if err != nil {
		return rep, errors.Join(errors.New("sweep"), err)
	}
	if rep.Examined > 0 {
		logger(s.Logger).InfoContext(ctx, "sweep", "examined", rep.Examined, "started", rep.Started, "resent", rep.Resent, "enqueued", rep.Enqueued,
			"timed_out", rep.TimedOut, "retried", rep.Retried, "errors", rep.Errors, "truncated", rep.Truncated)
	}
	return rep, nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// WithFlush wraps a Lambda handler so that t's metrics (EMF lines) and
// spans are flushed after every invocation, before Lambda freezes the
// process. A nil t returns h.
func WithFlush[E, R any](t *telemetry.Telemetry, log *slog.Logger, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	if t == nil {
		return h
	}
	return func(ctx context.Context, ev E) (R, error) {
		r, err := h(ctx, ev)
		if ferr := t.Flush(context.WithoutCancel(ctx)); ferr != nil {
			logger(log).WarnContext(ctx, "telemetry flush", "error", ferr)
		}
		return r, err
	}
}

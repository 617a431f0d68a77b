package worker

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// Observer receives telemetry about step attempts (pkg/telemetry implements
// it: spans, metrics). Both methods are called on the attempt's goroutine
// and must be cheap; a worker without an Observer skips them entirely.
type Observer interface {
	// StartAttempt is called when a valid step message arrives, before the
	// claim. ctx carries the trace context of the message's attributes; the
	// context returned is used for the rest of the attempt (claim, handler,
	// result), so a span started here parents everything the attempt does.
	StartAttempt(ctx context.Context, msg *protocol.StepMessage) context.Context
	// EndAttempt is called exactly once per StartAttempt, with the context
	// StartAttempt returned, when the message is done with.
	EndAttempt(ctx context.Context, a Attempt)
}

// Attempt describes how one step message ended.
type Attempt struct {
	Message *protocol.StepMessage
	// Outcome is success, retryable_error, permanent_error (a result was
	// reported), duplicate, step_not_found (acknowledged without running
	// the handler) or redeliver (left on the queue after an error).
	Outcome string
	// Start is when the message arrived; Claimed when the claim returned
	// (zero if it did not succeed); Executed when the handler returned
	// (zero if it did not run); End when the message was done with.
	Start, Claimed, Executed, End time.Time
	// Result is the reported result, when one was reported.
	Result *protocol.ResultMessage
	// Err is the error that left the message for redelivery.
	Err error
}

// Meter returns the OpenTelemetry meter handlers record their own business
// metrics with (counters, histograms). It comes from the process's global
// meter provider, which `tasker dev` exports at /metrics and a Lambda
// worker as CloudWatch Embedded Metric Format, so business metrics travel
// the same path as Tasker's own. Without telemetry set up, recording is a
// no-op. Create instruments once (package level), not per step.
func Meter() metric.Meter {
	return otel.GetMeterProvider().Meter("github.com/tasker-go/tasker/handlers")
}

// attemptClock records the moments of one attempt for the Observer.
type attemptClock struct {
	start, claimed, executed time.Time
}

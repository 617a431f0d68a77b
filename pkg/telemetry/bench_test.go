package telemetry_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqstrace"
	"github.com/tasker-go/tasker/pkg/telemetry"
	"github.com/tasker-go/tasker/pkg/worker"
)

// BenchmarkAttempt measures what telemetry adds to one step attempt: the
// observer's start and end (metrics, and a span when tracing) and the
// engine events of the step (enqueued, complete).
func BenchmarkAttempt(b *testing.B) {
	for _, tc := range []struct {
		name    string
		tracing bool
	}{{"metrics", false}, {"metrics+tracing", true}} {
		b.Run(tc.name, func(b *testing.B) {
			o := telemetry.Options{Prometheus: true, Tracing: tc.tracing}
			if tc.tracing {
				o.SpanExporters = []sdktrace.SpanExporter{discard{}}
			}
			tel, err := telemetry.New(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			obs := tel.WorkerObserver()
			notify := tel.EngineNotify(nil)
			msg := &protocol.StepMessage{TaskUUID: "01a21bef-c6ad-7593-b6b7-d2cf1431adbb", StepUUID: "s", StepName: "validate_order",
				Namespace: "fulfillment", Handler: "validate_order", Attempt: 1, EnqueuedAt: time.Now()}
			res := &protocol.ResultMessage{Status: protocol.StatusSuccess}
			b.ReportAllocs()
			for b.Loop() {
				now := time.Now()
				notify(engine.Event{TaskUUID: msg.TaskUUID, StepName: msg.StepName, State: "enqueued", Attempt: 1, At: now})
				ctx := obs.StartAttempt(context.Background(), msg)
				obs.EndAttempt(ctx, worker.Attempt{Message: msg, Outcome: "success", Start: now, Claimed: now, Executed: now, End: now, Result: res})
				notify(engine.Event{TaskUUID: msg.TaskUUID, StepName: msg.StepName, State: "complete", Attempt: 1, At: now})
			}
		})
	}
}

// BenchmarkInjectWithoutSpan is the cost telemetry adds to every SQS send
// when it is off: a context lookup.
func BenchmarkInjectWithoutSpan(b *testing.B) {
	ctx := context.Background()
	var attrs map[string]types.MessageAttributeValue
	b.ReportAllocs()
	for b.Loop() {
		attrs = sqstrace.Inject(ctx, attrs)
	}
}

type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

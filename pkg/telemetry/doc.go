// Package telemetry is Tasker's observability: structured JSON logs with
// redaction of sensitive context keys, metrics with Tasker Core's names
// through the OpenTelemetry metrics API (exported to Prometheus in
// `tasker dev` and as CloudWatch Embedded Metric Format lines in Lambda),
// and OpenTelemetry traces with one trace per task (the trace ID is the
// task's UUID) whose context travels in SQS message attributes (W3C
// traceparent).
//
// The engine and the worker SDK know nothing of this package: it observes
// the engine through engine.Config.Notify, the worker through
// worker.Config.Observer, and wraps the engine's result and orchestration
// entry points. With telemetry off none of it is installed, so the hot path
// pays nothing. See docs/observability.md.
package telemetry

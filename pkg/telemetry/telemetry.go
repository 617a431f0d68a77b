package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Options configures New. The zero value records metrics nowhere and
// traces nothing.
type Options struct {
	// ServiceName is the service.name resource attribute (default "tasker").
	ServiceName string
	// Prometheus serves metrics at MetricsHandler from a registry of
	// this Telemetry's own.
	Prometheus bool
	// EMF, when set, receives CloudWatch Embedded Metric Format lines on
	// each Flush; EMFNamespace is their CloudWatch namespace (default "Tasker").
	EMF          io.Writer
	EMFNamespace string
	// MetricReaders are extra readers (tests: a ManualReader).
	MetricReaders []sdkmetric.Reader
	// Tracing turns spans on. They go to SpanExporters (synchronously, for
	// tests), to a SpanStore of RecentSpans spans when RecentSpans > 0, and
	// to OTLP/HTTP (configured by the standard OTEL_EXPORTER_OTLP_* variables)
	// when OTLP is set.
	Tracing       bool
	SpanExporters []sdktrace.SpanExporter
	RecentSpans   int
	OTLP          bool
	// TaskSpanEndsAtStart ends a task's span when the task starts instead of
	// when it finishes: for processes (Lambda's intake) that create tasks
	// other processes finish.
	TaskSpanEndsAtStart bool
	// Global installs the meter and tracer providers and the W3C trace
	// context propagator as OpenTelemetry's globals, which handlers'
	// business metrics (worker.Meter) and the SQS trace propagation use.
	Global bool
}

// Telemetry is a process's metrics and tracing. A nil *Telemetry is valid
// and does nothing: every method checks.
type Telemetry struct {
	Metrics *Metrics

	mp      *sdkmetric.MeterProvider
	tp      *sdktrace.TracerProvider
	tracer  trace.Tracer
	tracing bool
	tasks   *taskSpans
	emf     *EMF
	prom    *prometheus.Registry
	spans   *SpanStore
}

// New sets up metrics and tracing as o says.
func New(ctx context.Context, o Options) (*Telemetry, error) {
	if o.ServiceName == "" {
		o.ServiceName = "tasker"
	}
	res := resource.NewSchemaless(attribute.String("service.name", o.ServiceName))
	t := &Telemetry{tracer: noop.NewTracerProvider().Tracer(ScopeName), tasks: newTaskSpans(10000, o.TaskSpanEndsAtStart)}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	if o.Prometheus {
		t.prom = prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(t.prom), otelprom.WithoutScopeInfo())
		if err != nil {
			return nil, fmt.Errorf("prometheus exporter: %w", err)
		}
		mopts = append(mopts, sdkmetric.WithReader(exp))
	}
	if o.EMF != nil {
		ns := o.EMFNamespace
		if ns == "" {
			ns = "Tasker"
		}
		t.emf = NewEMF(o.EMF, ns)
		mopts = append(mopts, sdkmetric.WithReader(t.emf.Reader()))
	}
	for _, r := range o.MetricReaders {
		mopts = append(mopts, sdkmetric.WithReader(r))
	}
	t.mp = sdkmetric.NewMeterProvider(mopts...)
	m, err := NewMetrics(t.mp)
	if err != nil {
		return nil, err
	}
	t.Metrics = m
	if o.Tracing {
		topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithIDGenerator(newIDGenerator()),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))}
		for _, e := range o.SpanExporters {
			topts = append(topts, sdktrace.WithSyncer(e))
		}
		if o.RecentSpans > 0 {
			t.spans = NewSpanStore(o.RecentSpans)
			topts = append(topts, sdktrace.WithBatcher(t.spans))
		}
		if o.OTLP {
			exp, err := otlptracehttp.New(ctx)
			if err != nil {
				return nil, fmt.Errorf("otlp trace exporter: %w", err)
			}
			topts = append(topts, sdktrace.WithBatcher(exp))
		}
		t.tp = sdktrace.NewTracerProvider(topts...)
		t.tracer = t.tp.Tracer(ScopeName)
		t.tracing = true
	}
	if o.Global {
		otel.SetMeterProvider(t.mp)
		if t.tp != nil {
			otel.SetTracerProvider(t.tp)
			otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		}
	}
	return t, nil
}

// MeterProvider returns the meter provider (for handlers' own metrics when
// Global is off), or a no-op one on a nil Telemetry.
func (t *Telemetry) MeterProvider() metric.MeterProvider {
	if t == nil {
		return noopMeterProvider()
	}
	return t.mp
}

// TracerProvider returns the tracer provider, nil when tracing is off.
func (t *Telemetry) TracerProvider() *sdktrace.TracerProvider {
	if t == nil {
		return nil
	}
	return t.tp
}

// MetricsHandler serves the metrics in Prometheus' text format; it answers
// 404 when Prometheus is off.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t == nil || t.prom == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(t.prom, promhttp.HandlerOpts{})
}

// TracesHandler serves the recent spans (see SpanStore.Handler); it
// answers 404 when no SpanStore is kept.
func (t *Telemetry) TracesHandler() http.Handler {
	if t == nil || t.spans == nil {
		return http.NotFoundHandler()
	}
	return t.spans.Handler()
}

// Flush writes the EMF lines of what was recorded since the last flush and
// exports finished spans: call it at the end of each Lambda invocation,
// before the runtime freezes the process.
func (t *Telemetry) Flush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.emf != nil {
		errs = append(errs, t.emf.Flush(ctx))
	}
	if t.tp != nil {
		errs = append(errs, t.tp.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown ends open task spans, flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.tasks.endAll()
	errs := []error{t.Flush(ctx)}
	if t.tp != nil {
		errs = append(errs, t.tp.Shutdown(ctx))
	}
	errs = append(errs, t.mp.Shutdown(ctx))
	return errors.Join(errs...)
}

// Environment variables read by FromEnv.
const (
	// EnvMetrics selects the Lambda metrics exporter: "emf" (default:
	// CloudWatch Embedded Metric Format on stdout) or "off".
	EnvMetrics = "TASKER_METRICS"
	// EnvTracing selects tracing in Lambda: "off" (default) or "otlp"
	// (OTLP/HTTP, configured by OTEL_EXPORTER_OTLP_ENDPOINT and the other
	// standard OTEL_* variables). OTEL_SDK_DISABLED=true forces it off.
	EnvTracing = "TASKER_TRACING"
	// EnvEMFNamespace is the CloudWatch namespace of the EMF metrics
	// (default "Tasker").
	EnvEMFNamespace = "TASKER_METRICS_NAMESPACE"
)

// FromEnv sets up a Lambda function's telemetry from its environment (see
// EnvMetrics, EnvTracing): EMF metrics on stdout unless turned off, traces
// only when asked for. service names the function. endAtStart is true for
// functions that create tasks (intake).
func FromEnv(ctx context.Context, service string, endAtStart bool) (*Telemetry, error) {
	o := Options{ServiceName: "tasker-" + service, Global: true, TaskSpanEndsAtStart: endAtStart}
	switch v := strings.ToLower(os.Getenv(EnvMetrics)); v {
	case "", "emf":
		o.EMF, o.EMFNamespace = os.Stdout, os.Getenv(EnvEMFNamespace)
	case "off":
	default:
		return nil, fmt.Errorf("%s=%q: want emf or off", EnvMetrics, v)
	}
	switch v := strings.ToLower(os.Getenv(EnvTracing)); v {
	case "", "off":
	case "otlp":
		o.Tracing, o.OTLP = os.Getenv("OTEL_SDK_DISABLED") != "true", true
	default:
		return nil, fmt.Errorf("%s=%q: want off or otlp", EnvTracing, v)
	}
	return New(ctx, o)
}

func noopMeterProvider() metric.MeterProvider { return metricnoop.NewMeterProvider() }

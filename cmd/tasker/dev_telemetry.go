package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/telemetry"
)

// telemetryFlags are `tasker dev`'s observability settings: where metrics
// and recent traces are served, and how logs look.
type telemetryFlags struct {
	metricsAddr string
	off         bool
	logFormat   string

	tel *telemetry.Telemetry
	srv *http.Server
	url string // the separate listener's base URL, when metricsAddr is set
}

func (tf *telemetryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&tf.metricsAddr, "metrics-addr", "",
		"also serve /metrics and /debug/traces on this address (they are always on the API listener)")
	cmd.Flags().BoolVar(&tf.off, "no-telemetry", false, "record no metrics and no traces")
	cmd.Flags().StringVar(&tf.logFormat, "log-format", "text", "log format on stderr: text or json (both redact TASKER_LOG_REDACT_KEYS)")
}

// logger returns the stack's logger on stderr, redacting sensitive keys.
func (tf *telemetryFlags) logger(level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch tf.logFormat {
	case "", "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", tf.logFormat)
	}
	return slog.New(telemetry.NewRedactingHandler(h, telemetry.NewRedactor(telemetry.RedactKeysFromEnv()))), nil
}

// setup starts telemetry (nil with --no-telemetry): Prometheus metrics,
// spans kept in memory for /debug/traces and, when OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, exported over OTLP/HTTP too.
func (tf *telemetryFlags) setup(ctx context.Context) (*telemetry.Telemetry, error) {
	if tf.off {
		return nil, nil
	}
	otlp := (os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") &&
		os.Getenv("OTEL_SDK_DISABLED") != "true"
	tel, err := telemetry.New(ctx, telemetry.Options{ServiceName: "tasker-dev", Prometheus: true, Tracing: true,
		RecentSpans: 10000, OTLP: otlp, Global: true})
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	tf.tel = tel
	if tf.metricsAddr == "" {
		return tel, nil
	}
	ln, err := net.Listen("tcp", tf.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", tf.metricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
	mux.Handle("GET /debug/traces", tel.TracesHandler())
	tf.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	tf.url = "http://" + ln.Addr().String()
	go func() {
		if err := tf.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "metrics server stopped: %v\n", err)
		}
	}()
	return tel, nil
}

// describe prints where metrics and traces are served.
func (tf *telemetryFlags) describe(out io.Writer, apiURL string) {
	if tf.tel == nil {
		fmt.Fprintf(out, "  telemetry: off (--no-telemetry)\n")
		return
	}
	base := apiURL
	if tf.url != "" {
		base = tf.url
	}
	fmt.Fprintf(out, "  metrics:   %s/metrics (Prometheus)\n  traces:    %s/debug/traces?task_uuid=<uuid>\n", base, base)
}

// shutdown stops the separate listener and flushes the exporters.
func (tf *telemetryFlags) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if tf.srv != nil {
		errs = append(errs, tf.srv.Shutdown(ctx))
	}
	errs = append(errs, tf.tel.Shutdown(ctx))
	return errors.Join(errs...)
}

package devstack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/telemetry"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// TestTelemetry runs an order fulfillment task (six steps, results through
// the results queue, so the trace context crosses SQS both ways) and checks
// the metrics /metrics serves and the spans of the task's trace. It is not
// parallel: it installs the global meter provider the sample handlers'
// business metrics use, so no other test's tasks may count.
func TestTelemetry(t *testing.T) {
	tpls, err := template.LoadDir("../../templates/fulfillment")
	require.NoError(t, err)
	spans := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Options{Prometheus: true, Tracing: true,
		SpanExporters: []sdktrace.SpanExporter{spans}, RecentSpans: 1000, Global: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	st, err := devstack.Start(context.Background(), devstack.Options{Env: localtest.Env(t), Prefix: "tel-" + time.Now().Format("150405.000000")[7:],
		Templates: tpls, Registry: reg, APIAddr: "127.0.0.1:0", ResultsViaQueue: true, Telemetry: tel,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	cl := client.New(st.APIURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := cl.CreateTask(ctx, engine.TaskRequest{Namespace: "fulfillment", Name: "order_fulfillment",
		Context: json.RawMessage(`{"order_id":"ORD-1","customer_id":"C-1","items":[{"sku":"A","quantity":1}],"amount":10}`)})
	require.NoError(t, err)
	done, err := cl.WaitForTask(ctx, created.TaskUUID, 20*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, "complete", done.Status)
	require.Len(t, done.Steps, 6)

	t.Run("metrics", func(t *testing.T) {
		m := scrape(t, st.APIURL+"/metrics")
		for name, want := range map[string]float64{
			`tasker_tasks_requests_total{namespace="fulfillment"}`:                                           1,
			`tasker_tasks_completions_total{namespace="fulfillment"}`:                                        1,
			`tasker_tasks_active{namespace="fulfillment"}`:                                                   0,
			`tasker_steps_claimed_total{handler="validate_order",namespace="fulfillment"}`:                   1,
			`tasker_steps_successes_total{handler="ship_order",namespace="fulfillment"}`:                     1,
			`tasker_steps_executions_total{handler="process_payment",namespace="fulfillment"}`:               1,
			`tasker_step_execution_duration_seconds_count{handler="validate_order",namespace="fulfillment"}`: 1,
			`tasker_step_result_processing_duration_seconds_count{status="success"}`:                         6,
			"orders_validated_total":          1,
			"order_fulfillment_time_ms_count": 1,
		} {
			require.Contains(t, m, name, "metric missing from /metrics")
			require.Equal(t, want, m[name], name)
		}
		// One message per step, and maybe one more: ship_order's two parents
		// may complete at once and both send its message (one claim wins).
		age := m[`tasker_queue_age_seconds_count{namespace="fulfillment"}`]
		require.True(t, age == 6 || age == 7, "step messages received: %v, want 6 (7 with ship_order sent twice)", age)
		sent := m[`tasker_steps_enqueued_total{namespace="fulfillment",retry="false"}`]
		require.True(t, sent == 6 || sent == 7, "step messages sent: %v, want 6 (7 with ship_order sent twice)", sent)
		require.Equal(t, 6.0, sumOf(m, "tasker_steps_claimed_total"))
		require.Equal(t, 6.0, sumOf(m, "tasker_steps_results_submitted_total"))
		require.Equal(t, 6.0, sumOf(m, "tasker_step_claim_duration_seconds_count"))
		require.Contains(t, m, `tasker_queue_depth{queue="`+st.Names.ResultsQueue()+`",state="visible"}`)
	})

	t.Run("traces", func(t *testing.T) {
		tid, ok := telemetry.TraceID(created.TaskUUID)
		require.True(t, ok)
		var byName map[string]tracetest.SpanStub
		require.Eventually(t, func() bool { // the task span ends with the completion event
			byName = map[string]tracetest.SpanStub{}
			for _, s := range spans.GetSpans() {
				if s.SpanContext.TraceID() == tid && !duplicateAttempt(s) {
					byName[s.Name] = s
				}
			}
			_, ok := byName["task"]
			return ok
		}, 5*time.Second, 20*time.Millisecond)
		task := byName["task"]
		require.False(t, task.Parent.IsValid(), "the task span is the root")
		for _, s := range done.Steps {
			step, ok := byName["step "+s.Name]
			require.True(t, ok, "no span for step %s", s.Name)
			require.Equal(t, tid, step.SpanContext.TraceID(), "worker span of %s shares the task's trace", s.Name)
			require.Equal(t, trace.SpanKindConsumer, step.SpanKind)
			apply, ok := byName["apply result "+s.Name]
			require.True(t, ok, "no result span for step %s", s.Name)
			require.Equal(t, step.SpanContext.SpanID(), apply.Parent.SpanID(), "result of %s applied under its attempt (traceparent on the result message)", s.Name)
		}
		require.Equal(t, task.SpanContext.SpanID(), byName["step validate_order"].Parent.SpanID(), "a root step's attempt is the task span's child")
		require.Equal(t, byName["apply result validate_order"].SpanContext.SpanID(), byName["step check_inventory"].Parent.SpanID(),
			"the next step's attempt continues from the result that enqueued it (traceparent on the step message)")

		require.NoError(t, tel.Flush(context.Background())) // the span store batches
		resp, err := http.Get(st.APIURL + "/debug/traces?task_uuid=" + created.TaskUUID)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body struct {
			Traces []telemetry.TraceJSON `json:"traces"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		require.Len(t, body.Traces, 1)
		require.Equal(t, tid.String(), body.Traces[0].TraceID)
		require.GreaterOrEqual(t, len(body.Traces[0].Spans), 13, "task, six attempts, six results applied")
	})
}

// scrape reads a Prometheus text exposition into series → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	return out
}

// sumOf adds every series of a metric, whatever its labels.
func sumOf(m map[string]float64, name string) float64 {
	var n float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			n += v
		}
	}
	return n
}

// duplicateAttempt reports whether a worker span is a delivery whose claim
// failed (a second message for a step two parents both sent).
func duplicateAttempt(s tracetest.SpanStub) bool {
	for _, kv := range s.Attributes {
		if kv.Key == "tasker.outcome" && kv.Value.AsString() == "duplicate" {
			return true
		}
	}
	return false
}

package lambdafn_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/telemetry"
)

// TestSchedulerTelemetry invokes the scheduler the way Lambda does with a
// start_task record carrying a W3C traceparent: the handler's span
// continues that trace, the step messages it sends carry the trace on to
// the workers (SQS message attributes), and WithFlush writes the
// invocation's metrics as EMF lines. Not parallel: it installs the global
// propagator.
func TestSchedulerTelemetry(t *testing.T) {
	h := newHarness(t)
	var emf bytes.Buffer
	spans := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(t.Context(), telemetry.Options{EMF: &emf, Tracing: true,
		SpanExporters: []sdktrace.SpanExporter{spans}, Global: true})
	require.NoError(t, err)
	eng, err := engine.New(engine.Config{Store: h.store, Queue: sqsqueue.New(h.f.Env.SQS, h.f.Provisioned.QueueURLs),
		Names: h.f.Names, Processor: "scheduler", Notify: tel.EngineNotify(nil)})
	require.NoError(t, err)
	require.NoError(t, eng.RegisterTemplate(t.Context(), h.tpl))
	task := h.pendingTask(t, h.tpl.Version, h.now)

	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1",
		Body: `{"v":1,"kind":"start_task","task_uuid":"` + task.UUID + `"}`,
		MessageAttributes: map[string]events.SQSMessageAttribute{
			"traceparent": {DataType: "String", StringValue: aws.String(parent)}}}}}
	payload, err := json.Marshal(ev)
	require.NoError(t, err)
	sched := &lambdafn.Scheduler{Engine: eng, Telemetry: tel}
	require.Empty(t, failures(t, lambdafn.WithFlush(tel, nil, sched.Handle), payload))

	got := spans.GetSpans()
	require.Len(t, got, 1)
	require.Equal(t, "orchestration start_task", got[0].Name)
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", got[0].SpanContext.TraceID().String())
	require.Equal(t, "b7ad6b7169203331", got[0].Parent.SpanID().String())

	url := h.f.QueueURL(h.f.Names.StepQueue(namespace))
	res, err := h.f.Env.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
	require.NoError(t, err)
	require.Len(t, res.Messages, 2)
	for _, m := range res.Messages {
		tp := aws.ToString(m.MessageAttributes["traceparent"].StringValue)
		require.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-"+got[0].SpanContext.SpanID().String()+"-01", tp)
		require.Equal(t, task.CorrelationID, aws.ToString(m.MessageAttributes["correlation_id"].StringValue))
	}

	var enqueued float64
	sc := bufio.NewScanner(&emf)
	for sc.Scan() {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &doc), sc.Text())
		meta := doc["_aws"].(map[string]any)
		require.NotZero(t, meta["Timestamp"])
		directive := meta["CloudWatchMetrics"].([]any)[0].(map[string]any)
		require.Equal(t, "Tasker", directive["Namespace"])
		for _, m := range directive["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			require.Contains(t, doc, name)
			if name == telemetry.MetricStepsEnqueued {
				enqueued += doc[name].(float64)
			}
		}
	}
	require.Equal(t, 2.0, enqueued, "both root steps enqueued, in the EMF output")
}

// TestWithFlushWithoutTelemetry keeps the handler as it is.
func TestWithFlushWithoutTelemetry(t *testing.T) {
	t.Parallel()
	calls := 0
	h := lambdafn.WithFlush(nil, nil, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		calls++
		require.False(t, trace.SpanContextFromContext(ctx).IsValid())
		return events.SQSEventResponse{}, nil
	})
	_, err := lambda.NewHandler(h).Invoke(t.Context(), []byte(`{"Records":[]}`))
	require.NoError(t, err)
	require.Equal(t, 1, calls)
}

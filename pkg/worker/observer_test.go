package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// recordingObserver records what a worker tells its Observer.
type recordingObserver struct {
	mu      sync.Mutex
	parents []trace.SpanContext
	ends    []worker.Attempt
}

func (o *recordingObserver) StartAttempt(ctx context.Context, _ *protocol.StepMessage) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.parents = append(o.parents, trace.SpanContextFromContext(ctx))
	return ctx
}

func (o *recordingObserver) EndAttempt(_ context.Context, a worker.Attempt) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ends = append(o.ends, a)
}

func (o *recordingObserver) attempts() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.ends)
}

// TestObserverAndTracePropagation polls a step message that carries a W3C
// traceparent attribute: the Observer sees the attempt in that trace, the
// result message goes out with the trace context, and a duplicate delivery
// ends as "duplicate" without a claim. Not parallel: it installs the global
// propagator.
func TestObserverAndTracePropagation(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	h := newHarness(t)
	h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Success(map[string]any{"ok": true})
	})
	obs := &recordingObserver{}
	cfg := h.config()
	cfg.Observer = obs
	w, err := worker.New(cfg)
	require.NoError(t, err)
	msg := h.enqueue(stepSpec{name: "traced", handler: "h"})
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, err = h.sqs.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(h.steps),
		MessageBody: aws.String(string(body(t, msg))),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"traceparent": {DataType: aws.String("String"), StringValue: aws.String(parent)}}})
	require.NoError(t, err)
	stop := h.poll(w, worker.PollerConfig{})
	require.Eventually(t, func() bool { return obs.attempts() == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())

	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", obs.parents[0].TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", obs.parents[0].SpanID().String())
	a := obs.ends[0]
	require.Equal(t, "success", a.Outcome)
	require.False(t, a.Claimed.IsZero())
	require.False(t, a.Executed.IsZero())
	require.NotNil(t, a.Result)
	require.Equal(t, protocol.StatusSuccess, a.Result.Status)

	out, err := h.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(h.results),
		MaxNumberOfMessages: 1, WaitTimeSeconds: 5, MessageAttributeNames: []string{"All"}})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	require.Equal(t, parent, aws.ToString(out.Messages[0].MessageAttributes["traceparent"].StringValue),
		"the result carries the attempt's trace context")

	require.NoError(t, w.Process(t.Context(), body(t, msg))) // a duplicate delivery
	require.Equal(t, 2, obs.attempts())
	dup := obs.ends[1]
	require.Equal(t, "duplicate", dup.Outcome)
	require.True(t, dup.Claimed.IsZero())
	require.Nil(t, dup.Result)
	require.False(t, obs.parents[1].IsValid(), "no trace context without the attribute")
}

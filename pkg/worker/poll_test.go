package worker_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/worker"
)

func TestPollRunsHandlerAndReportsResult(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var seen *worker.Step
	h.registry.RegisterFunc("orders.validate", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		seen = s
		var order struct {
			OrderID string `json:"order_id"`
			Amount  int64  `json:"amount"`
		}
		if err := s.DecodeContext(&order); err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		limit, err := worker.ParentResult[map[string]any](s, "load_limits")
		if err != nil {
			return worker.Result{}, err
		}
		return worker.Success(map[string]any{"order_id": order.OrderID, "amount": order.Amount, "limit": limit["max"], "key": s.IdempotencyKey()})
	})
	msg := h.enqueue(stepSpec{
		name: "validate_order", handler: "orders.validate",
		context: json.RawMessage(`{"order_id":"o-1","amount":250}`),
		config:  json.RawMessage(`{"strict":true}`),
		parents: map[string]json.RawMessage{"load_limits": json.RawMessage(`{"max":12345678901234567890}`)},
	})
	h.send(msg)

	stop := h.poll(h.worker(), worker.PollerConfig{})
	res := h.receiveResult()
	require.NoError(t, stop())

	require.Equal(t, protocol.StatusSuccess, res.Status)
	require.JSONEq(t, `{"order_id":"o-1","amount":250,"limit":12345678901234567890,"key":"`+msg.StepUUID+`"}`, string(res.Result))
	require.Nil(t, res.Error)
	require.Equal(t, msg.TaskUUID, res.TaskUUID)
	require.Equal(t, msg.StepUUID, res.StepUUID)
	require.Equal(t, "validate_order", res.StepName)
	require.Equal(t, 1, res.Attempt)
	require.Equal(t, msg.CorrelationID, res.CorrelationID)
	require.Equal(t, msg.CorrelationID, res.attrCorrelationID, "correlation_id message attribute")
	require.Equal(t, "test-worker", res.WorkerID)
	require.True(t, res.StartedAt.Equal(epoch))
	require.True(t, res.FinishedAt.Equal(epoch))
	h.requireStepQueueEmpty()

	require.Equal(t, "ns1", seen.Namespace)
	require.Equal(t, "test_task", seen.TaskName)
	require.Equal(t, "1.0.0", seen.TaskVersion)
	require.Equal(t, 3, seen.MaxAttempts)
	require.Equal(t, []string{"load_limits"}, seen.ParentNames())
	require.JSONEq(t, `{"strict":true}`, string(seen.Config))

	st, err := h.store.GetStep(context.Background(), msg.TaskUUID, msg.StepName)
	require.NoError(t, err)
	require.Equal(t, statemachine.StepInProgress, st.State)
	require.Equal(t, 1, st.Attempts)
	require.Equal(t, "test-worker", st.WorkerID)
	require.Len(t, st.History, 1, "the claim is the step's only transition so far")
	claim := st.History[0]
	require.Equal(t, string(statemachine.StepEnqueued), claim.From)
	require.Equal(t, string(statemachine.StepInProgress), claim.To)
	require.Equal(t, string(statemachine.StepEvStart), claim.Event)
	require.Equal(t, 1, claim.Attempt)
	require.Equal(t, "test-worker", claim.Processor)
	require.Equal(t, msg.CorrelationID, claim.CorrelationID)
	require.True(t, claim.At.Equal(epoch))
}

func TestPollDuplicateDeliveryRunsHandlerOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var runs atomic.Int32
	h.registry.RegisterFunc("count", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		runs.Add(1)
		return worker.Success(map[string]int{"ok": 1})
	})
	msg := h.enqueue(stepSpec{name: "once", handler: "count"})
	h.send(msg)
	h.send(msg)

	stop := h.poll(h.worker(), worker.PollerConfig{})
	res := h.receiveResult()
	h.requireStepQueueEmpty()
	require.NoError(t, stop())

	require.Equal(t, protocol.StatusSuccess, res.Status)
	require.Equal(t, int32(1), runs.Load())
	require.Nil(t, h.tryReceiveResult(time.Second), "a duplicate delivery must not report a second result")
}

func TestPollGracefulShutdownFinishesInFlightHandler(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	started := make(chan struct{})
	release := make(chan struct{})
	var handlerCtxErr atomic.Value
	h.registry.RegisterFunc("slow", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		close(started)
		<-release
		time.Sleep(200 * time.Millisecond) // still running after Poll's context is gone
		handlerCtxErr.Store(errString(ctx.Err()))
		return worker.Success(map[string]string{"finished": "yes"})
	})
	msg := h.enqueue(stepSpec{name: "slow_step", handler: "slow", timeoutSecs: 30})
	h.send(msg)

	stop := h.poll(h.worker(), worker.PollerConfig{Concurrency: 2})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not start")
	}
	stopErr := make(chan error, 1)
	go func() { stopErr <- stop() }()
	time.Sleep(100 * time.Millisecond) // Poll's context is cancelled while the handler runs
	close(release)

	select {
	case err := <-stopErr:
		require.NoError(t, err, "Poll returns nil on a clean shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("Poll did not return")
	}
	require.Equal(t, "", handlerCtxErr.Load(), "the handler's context is not cancelled by shutdown")
	// By the time Poll returned, the result was sent and the message deleted.
	require.Equal(t, 0, h.queueDepth(h.steps))
	res := h.receiveResult()
	require.Equal(t, protocol.StatusSuccess, res.Status)
	require.JSONEq(t, `{"finished":"yes"}`, string(res.Result))
}

func TestPollProcessesConcurrently(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 6
	var running, peak atomic.Int32
	h.registry.RegisterFunc("wide", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		cur := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
		return worker.Success(map[string]string{"step": s.Name})
	})
	for i := range n {
		h.send(h.enqueue(stepSpec{name: "wide_" + string(rune('a'+i)), handler: "wide"}))
	}
	stop := h.poll(h.worker(), worker.PollerConfig{Concurrency: 3})
	for range n {
		require.Equal(t, protocol.StatusSuccess, h.receiveResult().Status)
	}
	require.NoError(t, stop())
	require.Equal(t, 0, h.queueDepth(h.steps))
	require.LessOrEqual(t, peak.Load(), int32(3), "concurrency bound")
	require.Greater(t, peak.Load(), int32(1), "messages run in parallel")
}

func TestPollRetriesFailedMessageAfterBackoff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var runs atomic.Int32
	h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		runs.Add(1)
		return worker.Success(map[string]bool{"ok": true})
	})
	cfg := h.config()
	store := &flakyStore{Store: h.store, failClaims: map[string]int{"throttled": 1}}
	cfg.Store = store
	w, err := worker.New(cfg)
	require.NoError(t, err)
	h.send(h.enqueue(stepSpec{name: "throttled", handler: "h"}))
	_, err = h.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(h.steps), MessageBody: aws.String(`{"not":"a step"}`)})
	require.NoError(t, err)

	// Without ErrorBackoff the failed message would wait out the 60 s
	// visibility timeout; with it, it is back after about a second.
	stop := h.poll(w, worker.PollerConfig{VisibilityTimeout: time.Minute, ErrorBackoff: time.Second})
	res := h.tryReceiveResult(15 * time.Second)
	require.NotNil(t, res, "the message was retried after its backoff")
	require.Equal(t, protocol.StatusSuccess, res.Status)
	h.requireStepQueueEmpty() // the malformed message was deleted too
	require.NoError(t, stop())
	require.Equal(t, int32(1), runs.Load())
	require.Equal(t, 0, store.failClaims["throttled"])
}

func TestPollRejectsBadConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	err := h.worker().Poll(context.Background(), worker.PollerConfig{})
	require.ErrorIs(t, err, worker.ErrInvalidConfig)
	require.ErrorContains(t, err, "QueueURL")
}

func TestPollMissingQueueIsAnError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := h.worker().Poll(ctx, worker.PollerConfig{QueueURL: h.steps + "-missing", WaitTime: time.Second})
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "Poll gave up on its own")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

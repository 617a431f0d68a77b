package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/breaker"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

func TestFromBreaker(t *testing.T) {
	t.Parallel()
	require.NoError(t, worker.FromBreaker(nil))
	plain := errors.New("gateway: 503")
	require.Same(t, plain, worker.FromBreaker(plain))

	open := &breaker.OpenError{Name: "payment-gateway", State: breaker.Open, RetryAfter: 12500 * time.Millisecond}
	err := worker.FromBreaker(fmt.Errorf("charge: %w", open))
	var we *worker.Error
	require.ErrorAs(t, err, &we)
	require.True(t, we.Retryable)
	require.Equal(t, worker.ErrorTypeCircuitOpen, we.Type)
	require.Equal(t, 12500*time.Millisecond, we.RetryAfter)
	require.ErrorIs(t, err, breaker.ErrOpen)
	require.JSONEq(t, `{"breaker":"payment-gateway","state":"open","retry_after_ms":12500}`, string(we.Context))

	b, err := json.Marshal(we)
	require.NoError(t, err)
	var se protocol.StepError
	require.NoError(t, json.Unmarshal(b, &se))
	require.Equal(t, 12.5, se.RetryAfterSeconds)
	require.Equal(t, "circuit_open", se.ErrorType)
	require.True(t, se.Retryable)
}

func TestNewBreakersValidates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := worker.NewBreakers(nil, nil)
	require.ErrorIs(t, err, worker.ErrInvalidConfig)
	_, err = worker.NewBreakers(h.store, map[string]breaker.Config{
		"payment-gateway": {FailureThreshold: -1},
		"":                {},
	})
	require.ErrorIs(t, err, worker.ErrInvalidConfig)
	require.ErrorIs(t, err, breaker.ErrInvalidConfig)
	require.ErrorContains(t, err, "FailureThreshold")
	require.ErrorContains(t, err, "name is required")

	bs, err := worker.NewBreakers(h.store, map[string]breaker.Config{"payment-gateway": {FailureThreshold: 3}})
	require.NoError(t, err)
	pg, err := bs.Get("payment-gateway")
	require.NoError(t, err)
	require.Equal(t, 3, pg.Config().FailureThreshold)
	again, err := bs.Get("payment-gateway")
	require.NoError(t, err)
	require.Same(t, pg, again, "one breaker per name, so its cache is shared")
	other, err := bs.Get("fraud-check")
	require.NoError(t, err)
	require.Equal(t, breaker.DefaultFailureThreshold, other.Config().FailureThreshold, "unconfigured names get the defaults")
	_, err = bs.Get("")
	require.ErrorIs(t, err, breaker.ErrInvalidConfig)
	require.ErrorIs(t, bs.Do(t.Context(), "", func(context.Context) error { return nil }), breaker.ErrInvalidConfig)
}

// TestCircuitOpenStepIsRetriedLater runs a step whose handler calls a
// dependency through an open breaker: the attempt reports a retryable
// circuit_open error with the rest of the cool-down as retry_after, and the
// dependency is not called. Once the cool-down is over, the next attempt
// calls it as a probe.
func TestCircuitOpenStepIsRetriedLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := breaker.Config{FailureThreshold: 2, CoolDown: 30 * time.Second, SuccessThreshold: 2}
	for range cfg.FailureThreshold { // another instance saw the gateway fail at epoch
		_, err := h.store.RecordBreakerFailure(t.Context(), "payment-gateway", cfg, epoch)
		require.NoError(t, err)
	}
	var now atomic.Int64
	now.Store(int64(12 * time.Second))
	breakers, err := worker.NewBreakers(h.store, map[string]breaker.Config{"payment-gateway": cfg},
		breaker.WithClock(func() time.Time { return epoch.Add(time.Duration(now.Load())) }))
	require.NoError(t, err)

	var calls atomic.Int32
	h.registry.RegisterFunc("payments.charge", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		err := breakers.Do(ctx, "payment-gateway", func(ctx context.Context) error {
			calls.Add(1)
			return nil
		})
		if err != nil {
			return worker.Result{}, err
		}
		return worker.Success(map[string]bool{"charged": true})
	})
	w := h.worker()

	msg := h.enqueue(stepSpec{name: "charge", handler: "payments.charge"})
	require.NoError(t, w.Process(t.Context(), body(t, msg)))
	res := h.receiveResult()
	require.Equal(t, protocol.StatusRetryableError, res.Status)
	require.NotNil(t, res.Error)
	require.Equal(t, worker.ErrorTypeCircuitOpen, res.Error.ErrorType)
	require.True(t, res.Error.Retryable)
	require.Equal(t, 18.0, res.Error.RetryAfterSeconds, "retry after the rest of the 30 s cool-down")
	require.JSONEq(t, `{"breaker":"payment-gateway","state":"open","retry_after_ms":18000}`, string(res.Error.Context))
	require.Contains(t, res.Error.Message, `circuit breaker "payment-gateway" is open`)
	require.Zero(t, calls.Load(), "the open breaker let the handler call the gateway")

	now.Store(int64(cfg.CoolDown))
	msg = h.enqueue(stepSpec{name: "charge", handler: "payments.charge"})
	require.NoError(t, w.Process(t.Context(), body(t, msg)))
	res = h.receiveResult()
	require.Equal(t, protocol.StatusSuccess, res.Status, "error: %+v", res.Error)
	require.Equal(t, int32(1), calls.Load())
	rec, err := h.store.GetBreaker(t.Context(), "payment-gateway")
	require.NoError(t, err)
	require.Equal(t, breaker.HalfOpen, rec.State)
	require.Equal(t, 1, rec.Successes)
}

package worker_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/worker"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := worker.NewRegistry()
	noop := func(context.Context, *worker.Step) (worker.Result, error) { return worker.Success(nil) }
	r.RegisterFunc("b.second", noop)
	r.Register("a.first", worker.HandlerFunc(noop))
	require.Equal(t, []string{"a.first", "b.second"}, r.Names())

	h, ok := r.Lookup("a.first")
	require.True(t, ok)
	res, err := h.Handle(context.Background(), &worker.Step{})
	require.NoError(t, err)
	require.JSONEq(t, `null`, string(res.Data))
	_, ok = r.Lookup("missing")
	require.False(t, ok)

	require.PanicsWithValue(t, `worker: handler "a.first" registered twice`, func() { r.RegisterFunc("a.first", noop) })
	require.Panics(t, func() { r.RegisterFunc("", noop) })
	require.Panics(t, func() { r.Register("nil", nil) })
	require.Panics(t, func() { r.RegisterFunc("nilfunc", nil) })
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	_, err := worker.New(worker.Config{})
	require.ErrorIs(t, err, worker.ErrInvalidConfig)
	for _, field := range []string{"Store", "SQS", "ResultsQueueURL", "Registry"} {
		require.ErrorContains(t, err, field+" is required")
	}
	_, err = worker.New(worker.Config{EventConcurrency: -1})
	require.ErrorContains(t, err, "EventConcurrency")
}

func TestNewDefaultsWorkerID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := h.config()
	cfg.WorkerID = ""
	a, err := worker.New(cfg)
	require.NoError(t, err)
	b, err := worker.New(cfg)
	require.NoError(t, err)
	require.NotEmpty(t, a.ID())
	require.NotEqual(t, a.ID(), b.ID(), "random suffix")
}

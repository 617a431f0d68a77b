package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/worker"
)

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m))
		out = append(out, m)
	}
	return out
}

func TestProcessLogsOneLinePerAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Success(nil)
	})
	var logs syncBuffer
	cfg := h.config()
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	w, err := worker.New(cfg)
	require.NoError(t, err)
	msg := h.enqueue(stepSpec{name: "logged", handler: "h"})
	require.NoError(t, w.Process(context.Background(), body(t, msg)))
	require.NoError(t, w.Process(context.Background(), body(t, msg))) // duplicate

	lines := logs.lines(t)
	require.Len(t, lines, 2)
	for i, outcome := range []string{"success", "duplicate"} {
		l := lines[i]
		require.Equal(t, "step attempt", l["msg"])
		require.Equal(t, outcome, l["outcome"])
		require.Equal(t, msg.TaskUUID, l["task_uuid"])
		require.Equal(t, msg.StepUUID, l["step_uuid"])
		require.Equal(t, "logged", l["step"])
		require.Equal(t, "ns1", l["namespace"])
		require.Equal(t, msg.CorrelationID, l["correlation_id"])
		require.EqualValues(t, 1, l["attempt"])
		require.Contains(t, l, "duration_ms")
	}
}

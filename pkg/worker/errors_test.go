package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

func TestErrorClassSurvivesJSON(t *testing.T) {
	t.Parallel()
	tests := []*worker.Error{
		worker.Retryable(errors.New("gateway timeout")).WithType("gateway").WithContext(map[string]any{"status": 504}),
		worker.RetryAfter(errors.New("slow down"), 1500*time.Millisecond),
		worker.Permanent(errors.New("card declined")).WithType("card_declined"),
	}
	for _, e := range tests {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		var wire protocol.StepError
		require.NoError(t, json.Unmarshal(b, &wire), "the JSON is a protocol.StepError")
		require.Equal(t, e.Retryable, wire.Retryable)

		var back worker.Error
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, e.Message, back.Message)
		require.Equal(t, e.Type, back.Type)
		require.Equal(t, e.Retryable, back.Retryable)
		require.Equal(t, e.RetryAfter, back.RetryAfter)
		require.Equal(t, string(e.Context), string(back.Context))
	}
}

func TestErrorWireShape(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(worker.RetryAfter(errors.New("rate limited"), 2*time.Second).WithType("rate_limited"))
	require.NoError(t, err)
	require.JSONEq(t, `{"message":"rate limited","error_type":"rate_limited","retryable":true,"retry_after_seconds":2}`, string(b))

	b, err = json.Marshal(worker.Permanent(worker.RetryAfter(errors.New("x"), time.Second)))
	require.NoError(t, err)
	require.JSONEq(t, `{"message":"x","retryable":false}`, string(b), "a permanent error has no retry delay")
}

func TestErrorWrapping(t *testing.T) {
	t.Parallel()
	base := errors.New("connection refused")
	e := worker.Retryable(fmt.Errorf("call inventory: %w", base))
	require.ErrorIs(t, e, base)
	require.Equal(t, "call inventory: connection refused", e.Error())

	// Reclassifying keeps type and context.
	p := worker.Permanent(fmt.Errorf("give up: %w", e.WithType("inventory").WithContext("ctx")))
	require.False(t, p.Retryable)
	require.Equal(t, "inventory", p.Type)
	require.JSONEq(t, `"ctx"`, string(p.Context))
	require.Equal(t, "give up: call inventory: connection refused", p.Error())

	var target *worker.Error
	require.ErrorAs(t, fmt.Errorf("wrapped: %w", p), &target)
	require.False(t, target.Retryable)

	require.ErrorIs(t, worker.Retryable(context.DeadlineExceeded), context.DeadlineExceeded)
	require.Equal(t, "unknown error", (&worker.Error{}).Error())
	require.Nil(t, worker.FromStepError(nil))
}

func TestWithContextUnencodable(t *testing.T) {
	t.Parallel()
	e := worker.Permanent(errors.New("x")).WithContext(make(chan int))
	require.Contains(t, string(e.Context), "context_error")
	require.True(t, json.Valid(e.Context))
}

func FuzzErrorJSON(f *testing.F) {
	f.Add([]byte(`{"message":"rate limited","error_type":"rate_limited","retryable":true,"retry_after_seconds":30}`))
	f.Add([]byte(`{"message":"x","retryable":false,"context":{"a":[1,2]}}`))
	f.Add([]byte(`{"retry_after_seconds":1e300}`))
	f.Add([]byte(`{"retry_after_seconds":-5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e worker.Error
		if err := json.Unmarshal(b, &e); err != nil {
			return
		}
		require.GreaterOrEqual(t, e.RetryAfter, time.Duration(0))
		again, err := json.Marshal(&e)
		require.NoError(t, err)
		var back worker.Error
		require.NoError(t, json.Unmarshal(again, &back))
		require.Equal(t, e.Retryable, back.Retryable)
		require.Equal(t, e.Type, back.Type)
		require.Equal(t, e.Error(), back.Error())
	})
}

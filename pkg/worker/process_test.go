package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/worker"
	"github.com/tasker-go/tasker/pkg/workflow"
)

func TestProcessReportsFailures(t *testing.T) {
	t.Parallel()
	errDeclined := errors.New("card declined")
	tests := []struct {
		name        string
		handler     worker.HandlerFunc
		timeoutSecs int
		register    bool // false: no handler registered under the step's callable
		want        protocol.StepError
		wantStatus  protocol.Status
		wantMsgPart string
	}{
		{
			name: "retryable with type and context",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{}, worker.Retryable(errors.New("gateway unavailable")).WithType("gateway_down").WithContext(map[string]int{"status": 503})
			},
			register: true, wantStatus: protocol.StatusRetryableError,
			want: protocol.StepError{Message: "gateway unavailable", ErrorType: "gateway_down", Retryable: true, Context: json.RawMessage(`{"status":503}`)},
		},
		{
			name: "retry after",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{}, worker.RetryAfter(errors.New("rate limited"), 90*time.Second).WithType("rate_limited")
			},
			register: true, wantStatus: protocol.StatusRetryableError,
			want: protocol.StepError{Message: "rate limited", ErrorType: "rate_limited", Retryable: true, RetryAfterSeconds: 90},
		},
		{
			name: "permanent",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{}, worker.Permanent(fmt.Errorf("charge: %w", errDeclined)).WithType("card_declined")
			},
			register: true, wantStatus: protocol.StatusPermanentError,
			want: protocol.StepError{Message: "charge: card declined", ErrorType: "card_declined"},
		},
		{
			name: "wrapped permanent keeps its class",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{}, fmt.Errorf("outer: %w", worker.Permanent(errDeclined).WithType("card_declined"))
			},
			register: true, wantStatus: protocol.StatusPermanentError,
			want: protocol.StepError{Message: "outer: card declined", ErrorType: "card_declined"},
		},
		{
			name: "plain error is retryable",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{}, errors.New("connection reset")
			},
			register: true, wantStatus: protocol.StatusRetryableError,
			want: protocol.StepError{Message: "connection reset", Retryable: true},
		},
		{
			name: "panic",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				var m map[string]int
				m["boom"]++ // nil map write
				return worker.Result{}, nil
			},
			register: true, wantStatus: protocol.StatusRetryableError,
			want:        protocol.StepError{ErrorType: "panic", Retryable: true},
			wantMsgPart: "panic: assignment to entry in nil map",
		},
		{
			name: "timeout honoured by the handler",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				<-ctx.Done()
				return worker.Result{}, ctx.Err()
			},
			timeoutSecs: 1, register: true, wantStatus: protocol.StatusRetryableError,
			want: protocol.StepError{Message: "context deadline exceeded", ErrorType: "timeout", Retryable: true},
		},
		{
			name: "timeout ignored by the handler",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				time.Sleep(10 * time.Second)
				return worker.Success("too late")
			},
			timeoutSecs: 1, register: true, wantStatus: protocol.StatusRetryableError,
			want:        protocol.StepError{ErrorType: "timeout", Retryable: true},
			wantMsgPart: "did not return within",
		},
		{
			name:     "unknown handler",
			register: false, wantStatus: protocol.StatusPermanentError,
			want: protocol.StepError{ErrorType: "handler_not_found", Message: `no handler registered for "faults.handler"`},
		},
		{
			name: "invalid result JSON",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{Data: json.RawMessage(`{"unterminated":`)}, nil
			},
			register: true, wantStatus: protocol.StatusPermanentError,
			want: protocol.StepError{ErrorType: "invalid_result", Message: "handler result is not valid JSON"},
		},
		{
			name: "malformed outcome",
			handler: func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				return worker.Result{Data: json.RawMessage(`{"decision_point_outcome":{"type":"create_steps"}}`)}, nil
			},
			register: true, wantStatus: protocol.StatusPermanentError,
			want:        protocol.StepError{ErrorType: "invalid_result"},
			wantMsgPart: "step_names: required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tc.register {
				h.registry.Register("faults.handler", tc.handler)
			}
			msg := h.enqueue(stepSpec{name: "faulty", handler: "faults.handler", timeoutSecs: tc.timeoutSecs})
			require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))

			res := h.receiveResult()
			require.Equal(t, tc.wantStatus, res.Status)
			require.Nil(t, res.Result)
			require.NotNil(t, res.Error)
			got := *res.Error
			if tc.wantMsgPart != "" {
				require.Contains(t, got.Message, tc.wantMsgPart)
				require.NotContains(t, got.Message, "goroutine", "no stack trace in the message")
				got.Message = ""
			}
			if tc.want.Context == nil {
				require.Empty(t, got.Context)
				got.Context = nil
			} else {
				require.JSONEq(t, string(tc.want.Context), string(got.Context))
				got.Context = tc.want.Context
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestProcessMalformedMessageIsAcked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var hooked atomic.Int32
	cfg := h.config()
	cfg.OnMalformed = func(ctx context.Context, b []byte, err error) {
		require.ErrorIs(t, err, protocol.ErrInvalidMessage)
		hooked.Add(1)
	}
	w, err := worker.New(cfg)
	require.NoError(t, err)

	for _, b := range []string{`not json`, `{"v":1}`, `{"v":2,"task_uuid":"t","step_uuid":"s","step_name":"n","handler":"h","namespace":"ns1","attempt":1}`} {
		require.NoError(t, w.Process(context.Background(), []byte(b)), "malformed %s", b)
	}
	require.Equal(t, int32(3), hooked.Load())
	require.Nil(t, h.tryReceiveResult(time.Second), "nothing is reported for a malformed message")
}

func TestProcessUnknownStepIsAcked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var runs atomic.Int32
	h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		runs.Add(1)
		return worker.Success(nil)
	})
	msg := h.enqueue(stepSpec{name: "real", handler: "h"})
	msg.StepName = "deleted_step"
	require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))
	require.Zero(t, runs.Load())
}

func TestProcessStaleAttemptIsAcked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var runs atomic.Int32
	h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		runs.Add(1)
		return worker.Success(nil)
	})
	msg := h.enqueue(stepSpec{name: "step", handler: "h"})
	msg.Attempt = 2 // the step has no attempt yet: this message is not for the current attempt
	require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))
	require.Zero(t, runs.Load())
}

func TestProcessLargeResultGoesOutOfLine(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	big := strings.Repeat("x", protocol.MaxInlineBytes+1024)
	h.registry.RegisterFunc("big", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Success(map[string]string{"blob": big})
	})
	msg := h.enqueue(stepSpec{name: "big_result", handler: "big"})
	require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))

	res := h.receiveResult()
	require.Equal(t, protocol.StatusSuccess, res.Status)
	require.Nil(t, res.Result)
	require.NotNil(t, res.ResultRef)
	want, err := json.Marshal(map[string]string{"blob": big})
	require.NoError(t, err)
	require.Equal(t, len(want), res.ResultRef.Bytes)
	got, err := h.store.LoadPayload(context.Background(), res.ResultRef)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "stored result differs")
}

func TestProcessLoadsOutOfLinePayload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	big := strings.Repeat("y", protocol.MaxInlineBytes)
	var gotContext struct{ Blob string }
	var gotParent map[string]any
	h.registry.RegisterFunc("reads_big", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		if err := s.DecodeContext(&gotContext); err != nil {
			return worker.Result{}, err
		}
		if err := s.DecodeParent("up", &gotParent); err != nil {
			return worker.Result{}, err
		}
		return worker.Success(map[string]int{"len": len(gotContext.Blob)})
	})
	msg := h.enqueue(stepSpec{name: "big_input", handler: "reads_big"})
	payload := protocol.StepPayload{
		Context: json.RawMessage(`{"blob":"` + big + `"}`),
		Parents: map[string]json.RawMessage{"up": json.RawMessage(`{"n":1}`)},
	}
	data, err := json.Marshal(payload)
	require.NoError(t, err)
	ref, err := h.store.SavePayload(context.Background(), msg.TaskUUID, msg.StepName+"#1#input", data)
	require.NoError(t, err)
	msg.StepPayload = protocol.StepPayload{}
	msg.PayloadRef = ref
	require.Less(t, len(body(t, msg)), 1024, "the message itself is small")

	require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))
	res := h.receiveResult()
	require.Equal(t, protocol.StatusSuccess, res.Status, "error: %+v", res.Error)
	require.JSONEq(t, fmt.Sprintf(`{"len":%d}`, len(big)), string(res.Result))
	require.Equal(t, json.Number("1"), gotParent["n"], "maps decode numbers as json.Number")
}

func TestProcessUnusablePayloadIsPermanent(t *testing.T) {
	t.Parallel()
	tests := map[string]func(task string) *protocol.PayloadRef{
		"missing": func(task string) *protocol.PayloadRef {
			return &protocol.PayloadRef{PK: "T#" + task, SK: "B#nothing", Chunks: 1, Bytes: 10}
		},
		"negative bytes": func(task string) *protocol.PayloadRef {
			return &protocol.PayloadRef{PK: "T#" + task, SK: "B#x", Chunks: 1, Bytes: -1}
		},
		"too large": func(task string) *protocol.PayloadRef {
			return &protocol.PayloadRef{PK: "T#" + task, SK: "B#x", Chunks: 1, Bytes: worker.MaxPayloadBytes + 1}
		},
		"no chunks": func(task string) *protocol.PayloadRef { return &protocol.PayloadRef{PK: "T#" + task, SK: "B#x"} },
	}
	for name, ref := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
				t.Error("handler must not run without its payload")
				return worker.Success(nil)
			})
			msg := h.enqueue(stepSpec{name: "lost_payload", handler: "h"})
			msg.StepPayload = protocol.StepPayload{}
			msg.PayloadRef = ref(msg.TaskUUID)
			require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))
			res := h.receiveResult()
			require.Equal(t, protocol.StatusPermanentError, res.Status)
			require.Equal(t, worker.ErrorTypeInvalidPayload, res.Error.ErrorType)
		})
	}
}

func TestMaxPayloadBytesMatchesStore(t *testing.T) {
	t.Parallel()
	require.Equal(t, dynamo.MaxPayloadBytes, worker.MaxPayloadBytes)
}

func TestProcessStoreFailureLeavesMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.registry.RegisterFunc("h", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Success(nil)
	})
	cfg := h.config()
	cfg.Store = &flakyStore{Store: h.store, failClaims: map[string]int{"flaky": 1}}
	w, err := worker.New(cfg)
	require.NoError(t, err)
	msg := h.enqueue(stepSpec{name: "flaky", handler: "h"})
	require.Error(t, w.Process(context.Background(), body(t, msg)), "first claim fails: redeliver")
	require.NoError(t, w.Process(context.Background(), body(t, msg)), "redelivery succeeds")
	require.Equal(t, protocol.StatusSuccess, h.receiveResult().Status)
}

func TestCheckpointSavesAndResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inputs := json.RawMessage(`{"cursor":{"batch_id":"001","start_cursor":100,"end_cursor":200,"batch_size":100},"batch_metadata":{"cursor_field":"id","failure_strategy":"fail_fast"},"is_no_op":false,"__template_step_name":"process_batch"}`)
	var attempt atomic.Int32
	h.registry.RegisterFunc("batch.process", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		in, err := s.BatchInputs()
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		rp, ok, err := s.ResumePoint()
		if err != nil {
			return worker.Result{}, err
		}
		attempt.Store(int32(s.Attempt))
		if s.Attempt == 1 {
			assert.False(t, ok)
			if err := s.Checkpoint(ctx, json.RawMessage(`150`), 50, json.RawMessage(`{"sum":1275}`)); err != nil {
				return worker.Result{}, err
			}
			tooBig := json.RawMessage(`"` + strings.Repeat("z", worker.MaxCheckpointBytes) + `"`)
			assert.ErrorIs(t, s.Checkpoint(ctx, json.RawMessage(`160`), 60, tooBig), worker.ErrCheckpointTooLarge)
			return worker.Result{}, errors.New("crash after checkpoint")
		}
		assert.True(t, ok)
		assert.JSONEq(t, `150`, string(rp.Cursor))
		assert.Equal(t, int64(50), rp.ItemsProcessed)
		assert.JSONEq(t, `{"sum":1275}`, string(rp.AccumulatedResults))
		assert.True(t, rp.Timestamp.Equal(epoch))
		var end int64
		assert.NoError(t, json.Unmarshal(in.Cursor.EndCursor, &end))
		return worker.Success(map[string]int64{"processed_count": end - 150 + rp.ItemsProcessed})
	})
	msg := h.enqueue(stepSpec{name: "process_batch_001", handler: "batch.process", stepType: worker.StepTypeBatchWorker, inputs: inputs})
	w := h.worker()
	require.NoError(t, w.Process(context.Background(), body(t, msg)))
	require.Equal(t, protocol.StatusRetryableError, h.receiveResult().Status)

	st, err := h.store.GetStep(context.Background(), msg.TaskUUID, msg.StepName)
	require.NoError(t, err)
	require.JSONEq(t, `{"cursor":150,"items_processed":50,"accumulated_results":{"sum":1275},"timestamp":"2025-10-10T12:00:00Z"}`, string(st.Checkpoint))

	// The engine re-enqueues the step for attempt 2; the message carries no
	// checkpoint, the claimed item does.
	reenqueue(t, h, msg)
	msg.Attempt = 2
	require.NoError(t, w.Process(context.Background(), body(t, msg)))
	res := h.receiveResult()
	require.Equal(t, protocol.StatusSuccess, res.Status, "error: %+v", res.Error)
	require.JSONEq(t, `{"processed_count":100}`, string(res.Result))
	require.Equal(t, int32(2), attempt.Load())
}

func TestCheckpointOfSupersededAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.registry.RegisterFunc("batch.process", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		reenqueue(t, h, &protocol.StepMessage{TaskUUID: s.TaskUUID, StepName: s.Name}) // the sweeper took the step back
		err := s.Checkpoint(ctx, json.RawMessage(`1`), 1, nil)
		assert.ErrorIs(t, err, worker.ErrAttemptSuperseded)
		return worker.Result{}, err
	})
	msg := h.enqueue(stepSpec{name: "process_batch_002", handler: "batch.process", stepType: worker.StepTypeBatchWorker,
		inputs: json.RawMessage(`{"cursor":{"batch_id":"002","start_cursor":0,"end_cursor":1,"batch_size":1},"batch_metadata":{},"is_no_op":false}`)})
	require.NoError(t, h.worker().Process(context.Background(), body(t, msg)))
	require.Equal(t, protocol.StatusRetryableError, h.receiveResult().Status)
}

// reenqueue moves an in-progress step back to enqueued, as the engine does
// before a retry (or the sweeper when it reclaims an abandoned attempt).
func reenqueue(t *testing.T, h *harness, msg *protocol.StepMessage) {
	t.Helper()
	_, err := h.store.TransitionStep(context.Background(), msg.TaskUUID, msg.StepName, dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: -1,
		To: statemachine.StepEnqueued, At: epoch,
		Transitions: []workflow.Transition{{From: "in_progress", To: "enqueued", Event: "test_reenqueue", At: epoch}},
	})
	assert.NoError(t, err)
}

// flakyStore fails the first claims of some steps, as DynamoDB does when it
// throttles; everything else goes to the real store.
type flakyStore struct {
	worker.Store
	mu         sync.Mutex
	failClaims map[string]int // step name -> claims left to fail
}

func (s *flakyStore) ClaimStep(ctx context.Context, taskUUID, stepName string, attempt int, timeout time.Duration,
	workerID, correlationID string, now time.Time) (*workflow.Step, error) {
	s.mu.Lock()
	fail := s.failClaims[stepName] > 0
	if fail {
		s.failClaims[stepName]--
	}
	s.mu.Unlock()
	if fail {
		return nil, errors.New("ProvisionedThroughputExceededException: throttled")
	}
	return s.Store.ClaimStep(ctx, taskUUID, stepName, attempt, timeout, workerID, correlationID, now)
}

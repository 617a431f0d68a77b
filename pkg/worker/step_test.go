package worker_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/worker"
)

func TestStepDecoding(t *testing.T) {
	t.Parallel()
	s := &worker.Step{
		StepUUID: "step-uuid",
		Context:  json.RawMessage(`{"even_number":6,"big":123456789012345678901234567890}`),
		Config:   json.RawMessage(`{"batch_size":1000}`),
		Parents: map[string]json.RawMessage{
			"b": json.RawMessage(`{"result":36}`),
			"a": json.RawMessage(`{"result":6}`),
		},
	}
	require.Equal(t, "step-uuid", s.IdempotencyKey())
	require.Equal(t, []string{"a", "b"}, s.ParentNames())

	var m map[string]any
	require.NoError(t, s.DecodeContext(&m))
	require.Equal(t, json.Number("123456789012345678901234567890"), m["big"], "maps keep exact numbers")
	var anyv any
	require.NoError(t, s.DecodeContext(&anyv))
	require.Equal(t, json.Number("6"), anyv.(map[string]any)["even_number"])

	typed, err := worker.ContextValue[struct {
		EvenNumber int `json:"even_number"`
	}](s)
	require.NoError(t, err)
	require.Equal(t, 6, typed.EvenNumber)

	var cfg struct {
		BatchSize int64 `json:"batch_size"`
	}
	require.NoError(t, s.DecodeConfig(&cfg))
	require.Equal(t, int64(1000), cfg.BatchSize)

	p, err := worker.ParentResult[struct{ Result int }](s, "b")
	require.NoError(t, err)
	require.Equal(t, 36, p.Result)

	_, err = worker.ParentResult[map[string]any](s, "missing")
	require.ErrorIs(t, err, worker.ErrNoParent)
	require.ErrorIs(t, s.DecodeParent("missing", &m), worker.ErrNoParent)

	var bad struct {
		EvenNumber string `json:"even_number"`
	}
	require.Error(t, s.DecodeContext(&bad))
}

func TestStepEmptyJSONDecodesAsNull(t *testing.T) {
	t.Parallel()
	s := &worker.Step{}
	var m map[string]any
	require.NoError(t, s.DecodeContext(&m))
	require.Nil(t, m)
	var cfg struct{ X int }
	require.NoError(t, s.DecodeConfig(&cfg))
	require.Empty(t, s.ParentNames())
}

func TestStepBatchInputs(t *testing.T) {
	t.Parallel()
	s := &worker.Step{Name: "process_batch_001", Type: worker.StepTypeBatchWorker,
		Inputs: json.RawMessage(`{"cursor":{"batch_id":"001","start_cursor":1000,"end_cursor":2000,"batch_size":1000},"batch_metadata":{"cursor_field":"id","failure_strategy":"continue_on_failure","batchable_step":"analyze"},"is_no_op":false,"__template_step_name":"process_batch"}`)}
	in, err := s.BatchInputs()
	require.NoError(t, err)
	require.Equal(t, "001", in.Cursor.BatchID)
	require.JSONEq(t, `1000`, string(in.Cursor.StartCursor))
	require.Equal(t, "process_batch", in.TemplateStepName)
	require.Equal(t, "analyze", in.BatchMetadata.BatchableStep)

	_, err = (&worker.Step{Name: "x", Type: "decision", Inputs: s.Inputs}).BatchInputs()
	require.ErrorIs(t, err, worker.ErrNotBatchWorker)
	_, err = (&worker.Step{Name: "x"}).BatchInputs()
	require.ErrorIs(t, err, worker.ErrNotBatchWorker)
	_, err = (&worker.Step{Name: "x", Type: worker.StepTypeBatchWorker, Inputs: json.RawMessage(`[1]`)}).BatchInputs()
	require.Error(t, err)
}

func TestCheckpointOutsideWorker(t *testing.T) {
	t.Parallel()
	s := &worker.Step{Name: "x"}
	require.Error(t, s.Checkpoint(context.Background(), json.RawMessage(`1`), 1, nil))
	_, ok, err := s.ResumePoint()
	require.NoError(t, err)
	require.False(t, ok)
}

package protocol_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// goValue is a Go value and the schema its JSON must satisfy.
type goValue struct {
	name   string
	schema string
	value  any
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// goValues returns, for every message type, a minimal value and one with
// every optional field set.
func goValues(t *testing.T) []goValue {
	t.Helper()
	at := time.Date(2026, 11, 27, 6, 0, 0, 123456789, time.UTC)
	ref := &protocol.PayloadRef{PK: "T#0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01", SK: "B#fetch#1#result", Chunks: 2, Bytes: 420000}
	cursor := protocol.CursorConfig{BatchID: "000", StartCursor: json.RawMessage(`0`), EndCursor: json.RawMessage(`1000`), BatchSize: 1000}
	decision := &protocol.DecisionOutcome{Type: protocol.DecisionCreateSteps, StepNames: []string{"manager_approval", "finance_review"}}
	batch := &protocol.BatchOutcome{Type: protocol.BatchCreateBatches, WorkerTemplateName: "process_batch", WorkerCount: 2,
		CursorConfigs: []protocol.CursorConfig{cursor, {BatchID: "001", StartCursor: json.RawMessage(`{"id":1000}`),
			EndCursor: json.RawMessage(`{"id":2000}`), BatchSize: 1000}}, TotalItems: 2000}
	fullErr := &protocol.StepError{Message: "upstream returned 503", ErrorType: "http_503", Retryable: true,
		RetryAfterSeconds: 1.5, StatusCode: 503, Context: json.RawMessage(`{"url":"https://example.com"}`), Compensate: true}
	minErr := &protocol.StepError{Message: "boom"}
	bwi := protocol.BatchWorkerInputs{Cursor: cursor, BatchMetadata: protocol.BatchMetadata{CursorField: "id",
		FailureStrategy: "continue_on_failure", BatchableStep: "analyze_dataset"}, IsNoOp: false, TemplateStepName: "process_batch"}
	comp := protocol.CompensationInputs{Compensates: "charge_card", Result: json.RawMessage(`{"charge_id":"ch_1"}`),
		Release: []string{"undo_reserve"}}
	checkpoint := worker.CheckpointRecord{Cursor: json.RawMessage(`{"id":1500}`), ItemsProcessed: 500,
		AccumulatedResults: json.RawMessage(`{"sum":12}`), Timestamp: at}
	minStep := protocol.StepMessage{V: protocol.Version, TaskUUID: "t", StepUUID: "s", StepName: "fetch",
		Namespace: "ns", Handler: "h", Attempt: 1}
	fullStep := protocol.StepMessage{V: protocol.Version, TaskUUID: "0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01",
		StepUUID: "0193f0c2-7a42-7d00-8000-000000000001", StepName: "process_batch_000", Namespace: "data_pipeline",
		TaskName: "dataset_analysis", TaskVersion: "1.0.0", Handler: "DataPipeline::ProcessBatch", StepType: "batch_worker",
		Attempt: 2, MaxAttempts: 3, TimeoutSecs: 60, CorrelationID: "c-1", EnqueuedAt: at,
		StepPayload: protocol.StepPayload{
			Context: json.RawMessage(`{"dataset":"s3://bucket/key"}`), Config: json.RawMessage(`{"chunk":100}`),
			Parents:      map[string]json.RawMessage{"analyze_dataset": mustJSON(t, map[string]any{"batch_processing_outcome": batch}), "plain": json.RawMessage(`42`)},
			ParentErrors: map[string]*protocol.StepError{"process_batch_001": minErr},
			BatchParents: []string{"process_batch_001"}, Inputs: mustJSON(t, bwi), Checkpoint: mustJSON(t, checkpoint),
		}}
	compStep := minStep
	compStep.StepType = "compensation"
	compStep.Inputs = mustJSON(t, comp)
	nullCheckpoint := minStep
	nullCheckpoint.Checkpoint = json.RawMessage(`null`)
	refStep := minStep
	refStep.PayloadRef = ref
	minResult := protocol.ResultMessage{V: protocol.Version, TaskUUID: "t", StepName: "fetch", Attempt: 1, Status: protocol.StatusSuccess}
	fullResult := protocol.ResultMessage{V: protocol.Version, TaskUUID: "t", StepUUID: "s", StepName: "route", Attempt: 1,
		CorrelationID: "c-1", Status: protocol.StatusSuccess,
		Result:   mustJSON(t, map[string]any{"decision_point_outcome": decision, "batch_processing_outcome": batch, "extra": []int{1}}),
		WorkerID: "w-1", StartedAt: at, FinishedAt: at.Add(time.Second)}
	refResult := minResult
	refResult.ResultRef = ref
	retryResult := minResult
	retryResult.Status, retryResult.Error = protocol.StatusRetryableError, fullErr
	permResult := minResult
	permResult.Status, permResult.Error = protocol.StatusPermanentError, minErr
	return []goValue{
		{"step/minimal", sStepMessage, minStep},
		{"step/full", sStepMessage, fullStep},
		{"step/compensation", sStepMessage, compStep},
		{"step/null_checkpoint", sStepMessage, nullCheckpoint},
		{"step/payload_ref", sStepMessage, refStep},
		{"step_payload/full", sStepMessage, withoutPayloadRef(t, fullStep)},
		{"result/minimal", sResultMessage, minResult},
		{"result/full", sResultMessage, fullResult},
		{"result/result_ref", sResultMessage, refResult},
		{"result/retryable", sResultMessage, retryResult},
		{"result/permanent", sResultMessage, permResult},
		{"step_error/minimal", sStepError, minErr},
		{"step_error/full", sStepError, fullErr},
		{"orchestration/start_task", sOrchestrationMessage, protocol.OrchestrationMessage{V: 1, Kind: protocol.KindStartTask, TaskUUID: "t"}},
		{"orchestration/retry_step", sOrchestrationMessage, protocol.OrchestrationMessage{V: 1, Kind: protocol.KindRetryStep, TaskUUID: "t",
			StepName: "fetch", Attempt: 1, CorrelationID: "c", Reason: "retry in 2s"}},
		{"orchestration/redrive_task", sOrchestrationMessage, protocol.OrchestrationMessage{V: 1, Kind: protocol.KindRedriveTask, TaskUUID: "t", Reason: "operator"}},
		{"orchestration/fire_schedule", sOrchestrationMessage, protocol.OrchestrationMessage{V: 1, Kind: protocol.KindFireSchedule,
			Namespace: "scheduled_jobs", Name: "daily_reporting", Version: "1.0", Schedule: "daily", Slot: "2026-11-27T06:00:00Z"}},
		{"decision/create_steps", sDecisionOutcome, decision},
		{"decision/no_branches", sDecisionOutcome, protocol.DecisionOutcome{Type: protocol.DecisionNoBranches}},
		{"batch/create_batches", sBatchOutcome, batch},
		{"batch/no_batches", sBatchOutcome, protocol.BatchOutcome{Type: protocol.BatchNoBatches}},
		{"cursor", sCursorConfig, cursor},
		{"batch_worker_inputs/full", sBatchWorkerInputs, bwi},
		{"batch_worker_inputs/minimal", sBatchWorkerInputs, protocol.BatchWorkerInputs{Cursor: cursor, IsNoOp: true}},
		{"compensation_inputs/full", sCompensationInputs, comp},
		{"compensation_inputs/minimal", sCompensationInputs, protocol.CompensationInputs{Compensates: "charge_card"}},
		{"payload_ref", sPayloadRef, ref},
		{"checkpoint/full", sCheckpoint, checkpoint},
		{"checkpoint/minimal", sCheckpoint, worker.CheckpointRecord{Cursor: json.RawMessage(`null`), Timestamp: at}},
		{"step_result/scalar", sStepResult, json.RawMessage(`"done"`)},
	}
}

// withoutPayloadRef returns the JSON of a step payload as stored out of line
// merged back into its message: what a worker sees after loading the ref.
func withoutPayloadRef(t *testing.T, m protocol.StepMessage) json.RawMessage {
	t.Helper()
	var payload protocol.StepPayload
	require.NoError(t, json.Unmarshal(mustJSON(t, m.StepPayload), &payload))
	m.PayloadRef, m.StepPayload = nil, payload
	return mustJSON(t, m)
}

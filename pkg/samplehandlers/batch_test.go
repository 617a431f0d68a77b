package samplehandlers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// analyzerConfig is the initialization of analyze_dataset in
// templates/acceptance/batch.yaml.
const analyzerConfig = `{"batch_size": 1000, "max_workers": 10, "worker_template_name": "process_batch"}`

// cursorsJSON builds the expected cursor_configs for [start, end) ranges.
func cursorsJSON(ranges ...[2]int64) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = fmt.Sprintf(`{"batch_id": "%03d", "start_cursor": %d, "end_cursor": %d, "batch_size": %d}`, i, r[0], r[1], r[1]-r[0])
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func evenRanges(workers int, per int64) [][2]int64 {
	out := make([][2]int64, workers)
	for i := range out {
		out[i] = [2]int64{int64(i) * per, int64(i+1) * per}
	}
	return out
}

func TestAnalyzeDatasetCursors(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	batches := func(size int64, ranges [][2]int64) string {
		return fmt.Sprintf(`{"dataset_size": %d, "batch_processing_outcome": {"type": "create_batches",
			"worker_template_name": "process_batch", "worker_count": %d, "total_items": %d, "cursor_configs": %s}}`,
			size, len(ranges), size, cursorsJSON(ranges...))
	}
	tests := []struct {
		name, context, config, want string
	}{
		{"500: no batches", `{"dataset_size": 500}`, analyzerConfig,
			`{"dataset_size": 500, "batch_processing_outcome": {"type": "no_batches"}}`},
		{"0: no batches", `{"dataset_size": 0}`, analyzerConfig,
			`{"dataset_size": 0, "batch_processing_outcome": {"type": "no_batches"}}`},
		{"999: no batches", `{"dataset_size": 999}`, analyzerConfig,
			`{"dataset_size": 999, "batch_processing_outcome": {"type": "no_batches"}}`},
		{"1000: one worker", `{"dataset_size": 1000}`, analyzerConfig, batches(1000, evenRanges(1, 1000))},
		{"5000: five workers", `{"dataset_size": 5000}`, analyzerConfig, batches(5000, evenRanges(5, 1000))},
		{"25000: ten workers of 2500", `{"dataset_size": 25000}`, analyzerConfig, batches(25000, evenRanges(10, 2500))},
		{"2500: uneven last batch", `{"dataset_size": 2500}`, analyzerConfig,
			batches(2500, [][2]int64{{0, 834}, {834, 1668}, {1668, 2500}})},
		{"size as string", `{"dataset_size": "5000"}`, analyzerConfig, batches(5000, evenRanges(5, 1000))},
		{"no worker limit", `{"dataset_size": 12000}`, `{"batch_size": 1000, "worker_template_name": "process_batch"}`,
			batches(12000, evenRanges(12, 1000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustCall(t, reg, "batch.analyze_dataset", stepSpec{Name: "analyze_dataset", Type: "batchable", Context: tt.context, Config: tt.config})
			require.JSONEq(t, tt.want, string(res))
		})
	}
}

// TestAnalyzeDataset25000Ranges spells out the README's ranges for 25000.
func TestAnalyzeDataset25000Ranges(t *testing.T) {
	t.Parallel()
	res := mustCall(t, acceptanceRegistry(), "batch.analyze_dataset", stepSpec{Context: `{"dataset_size": 25000}`, Config: analyzerConfig})
	out, err := protocol.ExtractOutcomes(res)
	require.NoError(t, err)
	require.NotNil(t, out.Batch)
	require.Equal(t, 10, out.Batch.WorkerCount)
	var got []string
	for _, c := range out.Batch.CursorConfigs {
		got = append(got, fmt.Sprintf("%s:[%s,%s)", c.BatchID, c.StartCursor, c.EndCursor))
	}
	require.Equal(t, []string{
		"000:[0,2500)", "001:[2500,5000)", "002:[5000,7500)", "003:[7500,10000)", "004:[10000,12500)",
		"005:[12500,15000)", "006:[15000,17500)", "007:[17500,20000)", "008:[20000,22500)", "009:[22500,25000)",
	}, got)
}

func TestAnalyzeDatasetRejectsBadInput(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	tests := []struct{ name, context, config string }{
		{"missing dataset_size", `{}`, analyzerConfig},
		{"negative dataset_size", `{"dataset_size": -1}`, analyzerConfig},
		{"fractional dataset_size", `{"dataset_size": 10.5}`, analyzerConfig},
		{"no config", `{"dataset_size": 5000}`, ``},
		{"zero batch_size", `{"dataset_size": 5000}`, `{"batch_size": 0, "worker_template_name": "process_batch"}`},
		{"no worker template", `{"dataset_size": 5000}`, `{"batch_size": 1000}`},
		{"negative max_workers", `{"dataset_size": 5000}`, `{"batch_size": 1000, "max_workers": -1, "worker_template_name": "w"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, reg, "batch.analyze_dataset", stepSpec{Context: tt.context, Config: tt.config})
			requirePermanent(t, err)
		})
	}
}

// batchInputs returns a batch worker's inputs as the engine writes them.
func batchInputs(t testing.TB, id, start, end string, noOp bool) string {
	t.Helper()
	b, err := json.Marshal(protocol.BatchWorkerInputs{
		Cursor:        protocol.CursorConfig{BatchID: id, StartCursor: json.RawMessage(start), EndCursor: json.RawMessage(end)},
		BatchMetadata: protocol.BatchMetadata{CursorField: "id", FailureStrategy: "continue_on_failure", BatchableStep: "analyze_dataset"},
		IsNoOp:        noOp, TemplateStepName: "process_batch",
	})
	require.NoError(t, err)
	return string(b)
}

func TestProcessBatch(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	tests := []struct {
		name, typ, inputs, want string // want "" means a permanent invalid_input error
	}{
		{"first batch", "batch_worker", batchInputs(t, "000", "0", "2500", false), `{"processed_count": 2500}`},
		{"last uneven batch", "batch_worker", batchInputs(t, "002", "1668", "2500", false), `{"processed_count": 832}`},
		{"string cursors", "batch_worker", batchInputs(t, "001", `"10"`, `"25"`, false), `{"processed_count": 15}`},
		{"no-op placeholder", "batch_worker", batchInputs(t, "000", "0", "0", true), `{"processed_count": 0}`},
		{"no-op ignores its cursor", "batch_worker", batchInputs(t, "000", "null", "null", true), `{"processed_count": 0}`},
		{"untyped step with inputs", "", batchInputs(t, "003", "7500", "10000", false), `{"processed_count": 2500}`},
		{"not a batch worker", "standard", batchInputs(t, "000", "0", "10", false), ""},
		{"no inputs", "batch_worker", ``, ""},
		{"end before start", "batch_worker", batchInputs(t, "000", "10", "5", false), ""},
		{"cursor not a number", "batch_worker", batchInputs(t, "000", `"a"`, "5", false), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := call(t, reg, "batch.process_batch", stepSpec{Name: "process_batch_000", Type: tt.typ, Inputs: tt.inputs})
			if tt.want == "" {
				requirePermanent(t, err)
				return
			}
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(res))
		})
	}
}

func TestAggregateBatches(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	tests := []struct {
		name    string
		parents map[string]string
		want    string
	}{
		{"five workers", map[string]string{
			"process_batch_000": `{"processed_count": 1000}`, "process_batch_001": `{"processed_count": 1000}`,
			"process_batch_002": `{"processed_count": 1000}`, "process_batch_003": `{"processed_count": 1000}`,
			"process_batch_004": `{"processed_count": 1000}`,
		}, `{"total_processed": 5000, "worker_count": 5}`},
		{"placeholder", map[string]string{"process_batch_000": `{"processed_count": 0}`}, `{"total_processed": 0, "worker_count": 1}`},
		{"other parents left out", map[string]string{
			"process_batch_000": `{"processed_count": 700}`, "process_batch_001": `{"processed_count": "300"}`,
			"analyze_dataset": `{"dataset_size": 1000}`, "odd": `42`,
		}, `{"total_processed": 1000, "worker_count": 2}`},
		{"no parents", map[string]string{}, `{"total_processed": 0, "worker_count": 0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustCall(t, reg, "batch.aggregate", stepSpec{Name: "aggregate_results", Type: "deferred_convergence", Parents: tt.parents})
			require.JSONEq(t, tt.want, string(res))
		})
	}
	_, err := call(t, reg, "batch.aggregate", stepSpec{Parents: map[string]string{"process_batch_000": `{"processed_count": "x"}`}})
	requirePermanent(t, err)
}

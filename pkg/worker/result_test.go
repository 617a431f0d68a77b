package worker_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

func TestOutcomeHelpersProduceTaskerShapes(t *testing.T) {
	t.Parallel()
	cursors := []protocol.CursorConfig{
		{BatchID: "000", StartCursor: json.RawMessage(`0`), EndCursor: json.RawMessage(`500`), BatchSize: 500},
		{BatchID: "001", StartCursor: json.RawMessage(`500`), EndCursor: json.RawMessage(`1000`), BatchSize: 500},
	}
	tests := []struct {
		name         string
		build        func() (worker.Result, error)
		want         string
		wantDecision *protocol.DecisionOutcome
		wantBatch    *protocol.BatchOutcome
	}{
		{
			name:         "decision creates steps",
			build:        func() (worker.Result, error) { return worker.Decision("manager_approval", "finance_review") },
			want:         `{"decision_point_outcome":{"type":"create_steps","step_names":["manager_approval","finance_review"]}}`,
			wantDecision: &protocol.DecisionOutcome{Type: "create_steps", StepNames: []string{"manager_approval", "finance_review"}},
		},
		{
			name:         "decision with no steps",
			build:        func() (worker.Result, error) { return worker.Decision() },
			want:         `{"decision_point_outcome":{"type":"no_branches"}}`,
			wantDecision: &protocol.DecisionOutcome{Type: "no_branches"},
		},
		{
			name:         "no branches",
			build:        worker.NoBranches,
			want:         `{"decision_point_outcome":{"type":"no_branches"}}`,
			wantDecision: &protocol.DecisionOutcome{Type: "no_branches"},
		},
		{
			name: "decision with data",
			build: func() (worker.Result, error) {
				return worker.DecisionWith(map[string]any{"route_type": "auto", "amount": 500}, "auto_approve")
			},
			want:         `{"amount":500,"route_type":"auto","decision_point_outcome":{"type":"create_steps","step_names":["auto_approve"]}}`,
			wantDecision: &protocol.DecisionOutcome{Type: "create_steps", StepNames: []string{"auto_approve"}},
		},
		{
			name:  "create batches",
			build: func() (worker.Result, error) { return worker.Batches("process_batch", 1000, cursors...) },
			want: `{"batch_processing_outcome":{"type":"create_batches","worker_template_name":"process_batch","worker_count":2,` +
				`"cursor_configs":[{"batch_id":"000","start_cursor":0,"end_cursor":500,"batch_size":500},` +
				`{"batch_id":"001","start_cursor":500,"end_cursor":1000,"batch_size":500}],"total_items":1000}}`,
			wantBatch: &protocol.BatchOutcome{Type: "create_batches", WorkerTemplateName: "process_batch", WorkerCount: 2, CursorConfigs: cursors, TotalItems: 1000},
		},
		{
			name:      "no batches",
			build:     worker.NoBatches,
			want:      `{"batch_processing_outcome":{"type":"no_batches"}}`,
			wantBatch: &protocol.BatchOutcome{Type: "no_batches"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := tc.build()
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(res.Data))
			out, err := protocol.ExtractOutcomes(res.Data)
			require.NoError(t, err)
			require.Equal(t, tc.wantDecision, out.Decision)
			require.Equal(t, tc.wantBatch, out.Batch)
		})
	}
}

func TestOutcomeHelpersRejectBadInput(t *testing.T) {
	t.Parallel()
	tests := map[string]func() (worker.Result, error){
		"empty step name":    func() (worker.Result, error) { return worker.Decision("a", "") },
		"repeated step name": func() (worker.Result, error) { return worker.Decision("a", "a") },
		"data uses outcome key": func() (worker.Result, error) {
			return worker.DecisionWith(map[string]any{"decision_point_outcome": 1}, "a")
		},
		"no worker template": func() (worker.Result, error) { return worker.Batches("", 1, protocol.CursorConfig{BatchID: "000"}) },
		"no cursors":         func() (worker.Result, error) { return worker.Batches("w", 0) },
		"repeated batch id": func() (worker.Result, error) {
			return worker.Batches("w", 2, protocol.CursorConfig{BatchID: "000"}, protocol.CursorConfig{BatchID: "000"})
		},
		"unencodable success": func() (worker.Result, error) { return worker.Success(func() {}) },
	}
	for name, build := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := build()
			require.Error(t, err)
		})
	}
}

func TestRangeCursorsFollowsTaskerAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total, batch int64
		max          int
		want         [][2]int64
	}{
		{total: 500, batch: 1000, max: 10, want: [][2]int64{{0, 500}}},
		{total: 5000, batch: 1000, max: 10, want: [][2]int64{{0, 1000}, {1000, 2000}, {2000, 3000}, {3000, 4000}, {4000, 5000}}},
		{total: 25000, batch: 1000, max: 10, want: [][2]int64{
			{0, 2500}, {2500, 5000}, {5000, 7500}, {7500, 10000}, {10000, 12500},
			{12500, 15000}, {15000, 17500}, {17500, 20000}, {20000, 22500}, {22500, 25000}}},
		{total: 10, batch: 3, max: 0, want: [][2]int64{{0, 3}, {3, 6}, {6, 9}, {9, 10}}},
		{total: 0, batch: 100, max: 1},
	}
	for _, tc := range tests {
		got := worker.RangeCursors(tc.total, tc.batch, tc.max)
		require.Len(t, got, len(tc.want), "total %d", tc.total)
		var sum int64
		for i, c := range got {
			var start, end int64
			require.NoError(t, json.Unmarshal(c.StartCursor, &start))
			require.NoError(t, json.Unmarshal(c.EndCursor, &end))
			require.Equal(t, tc.want[i], [2]int64{start, end})
			require.Equal(t, end-start, c.BatchSize)
			require.Len(t, c.BatchID, 3)
			sum += c.BatchSize
		}
		require.Equal(t, max(tc.total, 0), sum)
	}
}

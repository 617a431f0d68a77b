package samplehandlers_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
)

func TestCustomerETLTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, context                 string
		partitions                    int
		loaded, skipped, rate, status string
	}{
		{"1000 customers", `{"processing_date": "2025-10-09", "customer_count": 1000}`, 10, "990", "10", "0.0100", "complete"},
		{"default count", `{"processing_date": "2025-10-09"}`, 10, "990", "10", "0.0100", "complete"},
		{"250 customers", `{"processing_date": "2025-10-09", "customer_count": 250}`, 3, "248", "2", "0.0080", "complete"},
		{"5000 customers, capped at 10 partitions", `{"processing_date": "2025-10-09", "customer_count": 5000}`, 10, "4949", "51", "0.0102", "complete"},
		{"no customers", `{"processing_date": "2025-10-09", "customer_count": 0}`, 1, "0", "0", "0.0000", "complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := simulate(t, registry(t), "etl/customer_etl.yaml", tt.context)
			require.Equal(t, tt.status, st.state(), st)
			for i := range tt.partitions {
				require.Equal(t, "complete", st.step(fmt.Sprintf("transform_partition_%03d", i)).state)
			}
			require.NotContains(t, st.steps, fmt.Sprintf("transform_partition_%03d", tt.partitions))
			load := fields(t, st.step("load_to_warehouse").result)
			require.Equal(t, json.Number(tt.loaded), load["rows_loaded"])
			require.Equal(t, json.Number(tt.skipped), load["rows_skipped"])
			require.Equal(t, json.Number(fmt.Sprint(tt.partitions)), load["partitions_loaded"])
			report := fields(t, st.step("generate_summary_report").result)
			require.Equal(t, json.Number(tt.rate), report["error_rate"])
			require.Equal(t, "2025-10-09", report["processing_date"])
		})
	}

	t.Run("flaky partition retried alone", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "etl/customer_etl.yaml", `{"processing_date": "2025-10-09", "customer_count": 300, "flaky_partitions": ["001"]}`)
		require.Equal(t, "complete", st.state(), st)
		require.Equal(t, 2, st.step("transform_partition_001").attempts)
		require.Equal(t, 1, st.step("transform_partition_000").attempts)
		require.Equal(t, 1, st.step("transform_partition_002").attempts)
	})
}

func TestTransformPartition(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	res := mustCall(t, reg, "etl.transform_partition", stepSpec{
		Name: "transform_partition_001", Type: "batch_worker",
		Context: `{"processing_date": "2025-10-09"}`, Inputs: batchInputs(t, "001", "100", "200", false),
	})
	require.JSONEq(t, `{"batch_id": "001", "no_op": false, "cursor_field": "id", "range": [100, 200],
		"records_transformed": 99, "records_skipped": 1}`, without(t, res, "transformed_at"))
	_, err := call(t, reg, "etl.transform_partition", stepSpec{Type: "standard", Context: `{}`})
	requirePermanent(t, err)
}

func TestETLRejects(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	cfg := `{"batch_size": 100, "max_workers": 10, "worker_template_name": "transform_partition"}`
	for _, ctx := range []string{`{}`, `{"processing_date": "yesterday"}`, `{"processing_date": "2025-10-09", "customer_count": -5}`} {
		_, err := call(t, reg, "etl.analyze_customers", stepSpec{Context: ctx, Config: cfg})
		requirePermanent(t, err)
	}
	_, err := call(t, reg, "etl.generate_summary_report", stepSpec{
		Context: `{"processing_date": "2025-10-09"}`,
		Parents: map[string]string{"load_to_warehouse": `{"rows_loaded": 80, "rows_skipped": 20, "partitions_loaded": 1}`},
	})
	requireFailure(t, err, false, samplehandlers.ErrorTypeDataQuality)
}

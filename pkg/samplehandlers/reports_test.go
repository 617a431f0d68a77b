package samplehandlers_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
)

func TestDailyReportingTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, context, published string
	}{
		{"all reports", `{"report_date": "2025-10-09"}`, `["inventory", "sales"]`},
		{"sales only", `{"report_date": "2025-10-09", "report_types": ["sales"]}`, `["sales"]`},
		{"activity only", `{"report_date": "2025-10-09", "report_types": ["customer_activity"]}`, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := simulate(t, registry(t), "scheduled_jobs/daily_reporting.yaml", tt.context)
			require.Equal(t, "complete", st.state(), st)
			pub := fields(t, st.step("publish_reports").result)
			require.JSONEq(t, tt.published, mustJSON(t, pub["published"]))
			require.Equal(t, "2025-10-09", pub["report_date"])
		})
	}

	t.Run("figures", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "scheduled_jobs/daily_reporting.yaml", `{"report_date": "2025-10-09"}`)
		refresh := fields(t, st.step("refresh_data").result)
		require.Equal(t, "snap_20251009", refresh["snapshot_id"])
		sales := fields(t, st.step("generate_sales_report").result)
		require.Equal(t, "snap_20251009", sales["snapshot_id"])
		require.Equal(t, "reports/2025-10-09/sales.json", sales["location"])
		orders, err := sales["orders"].(json.Number).Int64()
		require.NoError(t, err)
		require.GreaterOrEqual(t, orders, int64(800))
		require.LessOrEqual(t, orders, int64(1500))
		pub := fields(t, st.step("publish_reports").result)
		require.JSONEq(t, `["reports/2025-10-09/inventory.json", "reports/2025-10-09/sales.json"]`, mustJSON(t, pub["locations"]))
	})

	t.Run("refresh retried", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "scheduled_jobs/daily_reporting.yaml", `{"report_date": "2025-10-09", "fail_refresh_times": 1}`)
		require.Equal(t, "complete", st.state(), st)
		require.Equal(t, 2, st.step("refresh_data").attempts)
	})
}

func TestReportsReject(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	for _, ctx := range []string{`{}`, `{"report_date": "2025-13-01"}`, `{"report_date": "2025-10-09", "report_types": ["weather"]}`} {
		_, err := call(t, reg, "reports.refresh_data", stepSpec{Context: ctx})
		requirePermanent(t, err)
	}
	_, err := call(t, reg, "reports.refresh_data", stepSpec{Context: `{"report_date": "2025-10-09", "fail_refresh_times": 1}`})
	requireFailure(t, err, true, samplehandlers.ErrorTypeWarehouseUnavailable)
}

func TestConditionalApprovalTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		context, chain string
		steps          int
	}{
		{`{"amount": 250, "requester": "ana", "purpose": "books"}`, `["auto_approve"]`, 4},
		{`{"amount": 2500}`, `["manager_approval"]`, 4},
		{`{"amount": 12000.50}`, `["finance_review", "manager_approval"]`, 5},
	}
	for _, tt := range tests {
		t.Run(tt.context, func(t *testing.T) {
			t.Parallel()
			st := simulate(t, registry(t), "approvals/conditional_approval.yaml", tt.context)
			require.Equal(t, "complete", st.state(), st)
			require.Len(t, st.steps, tt.steps)
			require.JSONEq(t, `{"approved": true, "approval_chain": `+tt.chain+`}`, string(st.step("finalize_approval").result))
		})
	}
}

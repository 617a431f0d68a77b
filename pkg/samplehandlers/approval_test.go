package samplehandlers_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateRequest(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	tests := []struct {
		name, context, want string // want "" means a permanent invalid_input error
	}{
		{"integer", `{"amount": 500}`, `{"amount": 500}`},
		{"decimal kept exact", `{"amount": 1234.50}`, `{"amount": 1234.5}`},
		{"numeric string", `{"amount": "750"}`, `{"amount": 750}`},
		{"requester and purpose echoed", `{"amount": 9, "requester": "ana", "purpose": "books"}`,
			`{"amount": 9, "requester": "ana", "purpose": "books"}`},
		{"zero", `{"amount": 0}`, ""},
		{"negative", `{"amount": -5}`, ""},
		{"missing", `{}`, ""},
		{"not a number", `{"amount": "lots"}`, ""},
		{"requester not a string", `{"amount": 5, "requester": 7}`, ""},
	}
	for _, handler := range []string{"approval.validate_request", "approvals.validate_request"} {
		for _, tt := range tests {
			t.Run(handler+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				res, err := call(t, reg, handler, stepSpec{Name: "validate_request", Context: tt.context})
				if tt.want == "" {
					requirePermanent(t, err)
					return
				}
				require.NoError(t, err)
				require.JSONEq(t, tt.want, string(res))
			})
		}
	}
}

func TestRouteByAmount(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	auto := `{"type": "create_steps", "step_names": ["auto_approve"]}`
	manager := `{"type": "create_steps", "step_names": ["manager_approval"]}`
	dual := `{"type": "create_steps", "step_names": ["manager_approval", "finance_review"]}`
	tests := []struct {
		name, context, parent string
		route, amount         string
		outcome               string // "" means a permanent invalid_input error
	}{
		{"small", `{"amount": 500}`, "", "auto_approval", "500", auto},
		{"just below manager", `{"amount": 999.99}`, "", "auto_approval", "999.99", auto},
		{"manager threshold", `{"amount": 1000}`, "", "manager_only", "1000", manager},
		{"just below dual", `{"amount": 4999}`, "", "manager_only", "4999", manager},
		{"dual threshold", `{"amount": 5000}`, "", "dual_approval", "5000", dual},
		{"large", `{"amount": "1000000"}`, "", "dual_approval", "1000000", dual},
		{"from parent when context has none", `{}`, `{"amount": 2500}`, "manager_only", "2500", manager},
		{"context wins over parent", `{"amount": 10}`, `{"amount": 2500}`, "auto_approval", "10", auto},
		{"missing", `{}`, "", "", "", ""},
		{"zero", `{"amount": 0}`, "", "", "", ""},
	}
	for _, handler := range []string{"approval.route_by_amount", "approvals.route_by_amount"} {
		for _, tt := range tests {
			t.Run(handler+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				sp := stepSpec{Name: "routing_decision", Type: "decision", Context: tt.context}
				if tt.parent != "" {
					sp.Parents = map[string]string{"validate_request": tt.parent}
				}
				res, err := call(t, reg, handler, sp)
				if tt.outcome == "" {
					requirePermanent(t, err)
					return
				}
				require.NoError(t, err)
				require.JSONEq(t, `{"route_type": "`+tt.route+`", "amount": `+tt.amount+`, "decision_point_outcome": `+tt.outcome+`}`, string(res))
			})
		}
	}
}

func TestApprove(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	for _, handler := range []string{"approval.approve", "approvals.approve"} {
		for _, step := range []string{"auto_approve", "manager_approval", "finance_review"} {
			res := mustCall(t, reg, handler, stepSpec{Name: step, Parents: map[string]string{"routing_decision": `{}`}})
			require.JSONEq(t, `{"approved": true, "by": "`+step+`"}`, string(res))
		}
	}
}

func TestFinalizeApproval(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	tests := []struct {
		name    string
		parents map[string]string
		want    string
	}{
		{"auto", map[string]string{"auto_approve": `{"approved": true, "by": "auto_approve"}`},
			`{"approved": true, "approval_chain": ["auto_approve"]}`},
		{"dual, sorted", map[string]string{
			"manager_approval": `{"approved": true, "by": "manager_approval"}`,
			"finance_review":   `{"approved": true, "by": "finance_review"}`,
		}, `{"approved": true, "approval_chain": ["finance_review", "manager_approval"]}`},
		{"non-approval parents left out", map[string]string{
			"validate_request": `{"amount": 5}`,
			"manager_approval": `{"approved": true, "by": "manager_approval"}`,
		}, `{"approved": true, "approval_chain": ["manager_approval"]}`},
		{"one rejection", map[string]string{
			"manager_approval": `{"approved": true}`,
			"finance_review":   `{"approved": false}`,
		}, `{"approved": false, "approval_chain": ["finance_review", "manager_approval"]}`},
		{"no approvals", map[string]string{}, `{"approved": false, "approval_chain": []}`},
	}
	for _, handler := range []string{"approval.finalize", "approvals.finalize"} {
		for _, tt := range tests {
			t.Run(handler+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				res := mustCall(t, reg, handler, stepSpec{Name: "finalize_approval", Type: "deferred_convergence", Parents: tt.parents})
				require.JSONEq(t, tt.want, string(res))
			})
		}
	}
}

package samplehandlers_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/worker"
)

// acceptanceRegistry holds only the acceptance handlers.
func acceptanceRegistry() *worker.Registry {
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptance(reg)
	return reg
}

// TestAcceptanceCases runs every case of the acceptance README through the
// acceptance templates and checks the exact expected outcome.
func TestAcceptanceCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, template, context string
		check                   func(t *testing.T, st *simTask)
	}{
		{"linear 6", "acceptance/linear.yaml", `{"even_number": 6}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.JSONEq(t, `{"result": 36}`, string(st.step("linear_step_1").result))
			require.JSONEq(t, `{"result": 2821109907456}`, string(st.step("linear_step_4").result))
		}},
		{"linear 7", "acceptance/linear.yaml", `{"even_number": 7}`, func(t *testing.T, st *simTask) {
			first := st.step("linear_step_1")
			require.Equal(t, "error", first.state)
			require.Equal(t, 1, first.attempts)
			require.False(t, first.err.Retryable)
			require.Equal(t, "error", st.state())
			for _, name := range []string{"linear_step_2", "linear_step_3", "linear_step_4"} {
				require.Zero(t, st.step(name).attempts, "%s ran", name)
			}
		}},
		{"diamond 6", "acceptance/diamond.yaml", `{"even_number": 6}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.JSONEq(t, `{"result": 2821109907456}`, string(st.step("diamond_end").result))
		}},
		{"tree 6", "acceptance/tree.yaml", `{"even_number": 6}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.JSONEq(t, `{"result": "63340286662973277706162286946811886609896461828096"}`,
				string(st.step("tree_final_convergence").result))
		}},
		{"approval 500", "acceptance/conditional_approval.yaml", `{"amount": 500}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.Len(t, st.steps, 4)
			require.JSONEq(t, `{"approved": true, "approval_chain": ["auto_approve"]}`, string(st.step("finalize_approval").result))
		}},
		{"approval 1000", "acceptance/conditional_approval.yaml", `{"amount": 1000}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.Len(t, st.steps, 4)
			require.JSONEq(t, `{"approved": true, "approval_chain": ["manager_approval"]}`, string(st.step("finalize_approval").result))
		}},
		{"approval 5000", "acceptance/conditional_approval.yaml", `{"amount": 5000}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.Len(t, st.steps, 5)
			require.JSONEq(t, `{"approved": true, "approval_chain": ["finance_review", "manager_approval"]}`,
				string(st.step("finalize_approval").result))
		}},
		{"approval 0", "acceptance/conditional_approval.yaml", `{"amount": 0}`, func(t *testing.T, st *simTask) {
			v := st.step("validate_request")
			require.Equal(t, "error", v.state)
			require.Equal(t, 1, v.attempts)
			require.False(t, v.err.Retryable)
			require.Zero(t, st.step("routing_decision").attempts)
			require.Equal(t, "error", st.state())
		}},
		{"batch 500", "acceptance/batch.yaml", `{"dataset_size": 500}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.JSONEq(t, `{"processed_count": 0}`, string(st.step("process_batch_000").result))
			require.JSONEq(t, `{"total_processed": 0, "worker_count": 1}`, string(st.step("aggregate_results").result))
		}},
		{"batch 5000", "acceptance/batch.yaml", `{"dataset_size": 5000}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.Len(t, st.steps, 1+5+1)
			require.JSONEq(t, `{"total_processed": 5000, "worker_count": 5}`, string(st.step("aggregate_results").result))
		}},
		{"batch 25000", "acceptance/batch.yaml", `{"dataset_size": 25000}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			require.Len(t, st.steps, 1+10+1)
			for i := range 10 {
				require.JSONEq(t, `{"processed_count": 2500}`, string(st.step(fmt.Sprintf("process_batch_%03d", i)).result))
			}
			require.JSONEq(t, `{"total_processed": 25000, "worker_count": 10}`, string(st.step("aggregate_results").result))
		}},
		{"retry mechanics", "acceptance/retry_mechanics.yaml", `{}`, func(t *testing.T, st *simTask) {
			require.Equal(t, "complete", st.state(), st)
			s := st.step("fail_twice_then_succeed")
			require.Equal(t, 3, s.attempts)
			require.JSONEq(t, `{"attempts": 3}`, string(s.result))
		}},
		{"retry exhaustion", "acceptance/retry_exhaustion.yaml", `{}`, func(t *testing.T, st *simTask) {
			s := st.step("always_fail")
			require.Equal(t, "error", s.state)
			require.Equal(t, 3, s.attempts)
			require.True(t, s.err.Retryable, "the last failure is still a retryable one; the attempts ran out")
			require.Zero(t, st.step("never_runs").attempts)
			require.Equal(t, "error", st.state())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, simulate(t, acceptanceRegistry(), tt.template, tt.context))
		})
	}
}

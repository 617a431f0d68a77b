package samplehandlers_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
)

func TestFailNTimes(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	tests := []struct {
		name   string
		config string
		failOn []int // attempts that fail retryably
		passOn []int // attempts that succeed with {"attempts": n}
	}{
		{"fail twice", `{"fail_count": 2}`, []int{1, 2}, []int{3, 4}},
		{"exhaustion", `{"fail_count": 10}`, []int{1, 2, 3, 10}, []int{11}},
		{"never fails", `{"fail_count": 0}`, nil, []int{1, 2}},
		{"no config", ``, nil, []int{1}},
		{"fail_count as string", `{"fail_count": "1"}`, []int{1}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, attempt := range tt.failOn {
				_, err := call(t, reg, "faults.fail_n_times", stepSpec{Config: tt.config, Attempt: attempt})
				we := requireFailure(t, err, true, samplehandlers.ErrorTypeSimulatedFailure)
				require.Contains(t, we.Error(), fmt.Sprintf("attempt %d", attempt))
			}
			for _, attempt := range tt.passOn {
				res := mustCall(t, reg, "faults.fail_n_times", stepSpec{Config: tt.config, Attempt: attempt})
				require.JSONEq(t, fmt.Sprintf(`{"attempts": %d}`, attempt), string(res))
			}
		})
	}
	for _, config := range []string{`{"fail_count": -1}`, `{"fail_count": 1.5}`, `{"fail_count": "x"}`, `[1]`} {
		_, err := call(t, reg, "faults.fail_n_times", stepSpec{Config: config})
		requirePermanent(t, err)
	}
}

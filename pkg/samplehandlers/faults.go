package samplehandlers

import (
	"context"

	"github.com/tasker-go/tasker/pkg/worker"
)

// failNTimes is faults.fail_n_times: it fails with a retryable
// simulated_failure error on attempts 1..fail_count (handler configuration,
// 0 when absent) and then returns {"attempts": attempt}. A negative or
// non-integer fail_count is a permanent invalid_input error.
func failNTimes(_ context.Context, s *worker.Step) (worker.Result, error) {
	cfg, err := configObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	failCount, err := cfg.integer("fail_count", 0)
	if err != nil {
		return worker.Result{}, err
	}
	if failCount < 0 {
		return worker.Result{}, invalid("fail_count must not be negative, got %d", failCount)
	}
	if int64(s.Attempt) <= failCount {
		return worker.Result{}, simulated("attempt %d of %d planned failures", s.Attempt, failCount).
			WithContext(map[string]any{"attempt": s.Attempt, "fail_count": failCount})
	}
	return worker.Success(map[string]any{"attempts": s.Attempt})
}

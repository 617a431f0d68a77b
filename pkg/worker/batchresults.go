package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// BatchResult is the outcome of one batch worker, as a convergence step sees it.
type BatchResult struct {
	// Step is the worker instance's name, "<template>_<batch id>".
	Step string
	// BatchID is the cursor's batch id.
	BatchID string
	// Failed is true when the worker failed for good (continue_on_failure
	// lets the convergence run anyway); Error then says why.
	Failed bool
	Error  *protocol.StepError
	// Result is the worker's result JSON (null when it failed).
	Result json.RawMessage
}

// Decode decodes the worker's result into v.
func (r BatchResult) Decode(v any) error {
	if err := decodeJSON(r.Result, v); err != nil {
		return fmt.Errorf("decode result of %s: %w", r.Step, err)
	}
	return nil
}

// ErrNotConvergence means the step has no batch worker parents.
var ErrNotConvergence = errors.New("step has no batch worker parents")

// BatchResults returns the outcome of every batch worker this step depends
// on, ordered by step name: the one helper a convergence step needs to
// aggregate a batch, including the workers that failed under
// continue_on_failure. It returns ErrNotConvergence for other steps.
func (s *Step) BatchResults() ([]BatchResult, error) {
	if len(s.BatchParents) == 0 {
		return nil, ErrNotConvergence
	}
	names := append([]string(nil), s.BatchParents...)
	sort.Strings(names)
	out := make([]BatchResult, 0, len(names))
	for _, n := range names {
		r := BatchResult{Step: n, Result: s.Parents[n]}
		if e, ok := s.ParentErrors[n]; ok {
			r.Failed, r.Error = true, e
		}
		if i := lastUnderscore(n); i >= 0 {
			r.BatchID = n[i+1:]
		}
		out = append(out, r)
	}
	return out, nil
}

func lastUnderscore(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '_' {
			return i
		}
	}
	return -1
}

// ErrNotCompensation means the step is not a compensation step.
var ErrNotCompensation = errors.New("step is not a compensation step")

// CompensationInputs tells a compensation handler which completed step it
// undoes and what that step returned (e.g. the id of the account to delete).
// It returns ErrNotCompensation for other steps.
func (s *Step) CompensationInputs() (*protocol.CompensationInputs, error) {
	if s.Type != "compensation" || len(s.Inputs) == 0 {
		return nil, ErrNotCompensation
	}
	var in protocol.CompensationInputs
	if err := decodeJSON(s.Inputs, &in); err != nil {
		return nil, fmt.Errorf("decode compensation inputs: %w", err)
	}
	return &in, nil
}

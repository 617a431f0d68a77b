package worker

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// Keys under which a step result embeds its outcome.
const (
	KeyDecisionOutcome = "decision_point_outcome"
	KeyBatchOutcome    = "batch_processing_outcome"
)

// Result is a successful attempt's result: a JSON value, normally an object,
// that dependent steps receive as their parent result. Build it with Success,
// or with Decision/Batches for decision and batchable steps. A zero Result
// is reported as {}.
type Result struct {
	Data json.RawMessage
}

// Success returns a result holding v encoded as JSON. A json.RawMessage is
// used as it is (after validation); note that a []byte encodes as a base64
// string.
func Success(v any) (Result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Result{}, fmt.Errorf("encode result: %w", err)
	}
	return Result{Data: b}, nil
}

// Decision returns a decision step's result asking the engine to create the
// named steps: {"decision_point_outcome":{"type":"create_steps",
// "step_names":[…]}}. With no names it is NoBranches. It returns an error
// for an empty or repeated name.
func Decision(steps ...string) (Result, error) { return DecisionWith(nil, steps...) }

// DecisionWith is Decision with further result fields (data), which
// dependent steps see next to the outcome. data must not use the key
// "decision_point_outcome".
func DecisionWith(data map[string]any, steps ...string) (Result, error) {
	out := protocol.DecisionOutcome{Type: protocol.DecisionNoBranches}
	if len(steps) > 0 {
		if err := checkNames(steps); err != nil {
			return Result{}, fmt.Errorf("decision: %w", err)
		}
		out = protocol.DecisionOutcome{Type: protocol.DecisionCreateSteps, StepNames: append([]string(nil), steps...)}
	}
	return withOutcome(data, KeyDecisionOutcome, out)
}

// NoBranches returns a decision step's result that creates no steps:
// {"decision_point_outcome":{"type":"no_branches"}}.
func NoBranches() (Result, error) { return DecisionWith(nil) }

// Batches returns a batchable step's result asking the engine to create one
// instance of the batch worker template step workerTemplate per cursor:
// {"batch_processing_outcome":{"type":"create_batches", …}} with
// worker_count = len(cursors). It returns an error when workerTemplate is
// empty, there are no cursors (use NoBatches) or batch IDs are empty or
// repeated.
func Batches(workerTemplate string, totalItems int64, cursors ...protocol.CursorConfig) (Result, error) {
	if workerTemplate == "" {
		return Result{}, errors.New("batches: worker template name is required")
	}
	if len(cursors) == 0 {
		return Result{}, errors.New("batches: at least one cursor is required (use NoBatches for none)")
	}
	ids := make([]string, len(cursors))
	for i, c := range cursors {
		ids[i] = c.BatchID
	}
	if err := checkNames(ids); err != nil {
		return Result{}, fmt.Errorf("batches: batch id: %w", err)
	}
	return withOutcome(nil, KeyBatchOutcome, protocol.BatchOutcome{
		Type:               protocol.BatchCreateBatches,
		WorkerTemplateName: workerTemplate,
		WorkerCount:        len(cursors),
		CursorConfigs:      append([]protocol.CursorConfig(nil), cursors...),
		TotalItems:         totalItems,
	})
}

// NoBatches returns a batchable step's result that creates no batches:
// {"batch_processing_outcome":{"type":"no_batches"}}. The engine then
// creates one no-op placeholder worker so the graph keeps its shape.
func NoBatches() (Result, error) {
	return withOutcome(nil, KeyBatchOutcome, protocol.BatchOutcome{Type: protocol.BatchNoBatches})
}

// RangeCursors splits the integer range [0, total) into batches the way
// Tasker Core's dataset analyzer does: workers = min(ceil(total/batchSize),
// maxWorkers), each covering ceil(total/workers) items, with batch IDs
// "000", "001", … It returns nil when total <= 0 or batchSize <= 0; a
// maxWorkers <= 0 means no limit.
func RangeCursors(total, batchSize int64, maxWorkers int) []protocol.CursorConfig {
	if total <= 0 || batchSize <= 0 {
		return nil
	}
	workers := ceilDiv(total, batchSize)
	if maxWorkers > 0 && workers > int64(maxWorkers) {
		workers = int64(maxWorkers)
	}
	per := ceilDiv(total, workers)
	var out []protocol.CursorConfig
	for i := int64(0); i < workers; i++ {
		start, end := i*per, min((i+1)*per, total)
		if start >= end {
			break
		}
		out = append(out, protocol.CursorConfig{
			BatchID:     fmt.Sprintf("%03d", i),
			StartCursor: json.RawMessage(fmt.Sprint(start)),
			EndCursor:   json.RawMessage(fmt.Sprint(end)),
			BatchSize:   end - start,
		})
	}
	return out
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func withOutcome(data map[string]any, key string, outcome any) (Result, error) {
	if _, taken := data[key]; taken {
		return Result{}, fmt.Errorf("result data must not use the key %q", key)
	}
	m := make(map[string]any, len(data)+1)
	for k, v := range data {
		m[k] = v
	}
	m[key] = outcome
	return Success(m)
}

func checkNames(names []string) error {
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			return fmt.Errorf("[%d] is empty", i)
		}
		if seen[n] {
			return fmt.Errorf("%q appears twice", n)
		}
		seen[n] = true
	}
	return nil
}

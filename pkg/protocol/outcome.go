package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Decision outcome types, as Tasker Core's DecisionPointOutcome serialises them.
const (
	DecisionCreateSteps = "create_steps"
	DecisionNoBranches  = "no_branches"
)

// DecisionOutcome is embedded in a decision step's result as
// "decision_point_outcome".
type DecisionOutcome struct {
	Type      string   `json:"type"`
	StepNames []string `json:"step_names,omitempty"`
}

// Batch outcome types, as Tasker Core's BatchProcessingOutcome serialises them.
const (
	BatchCreateBatches = "create_batches"
	BatchNoBatches     = "no_batches"
)

// CursorConfig describes one batch: items from StartCursor (inclusive) to
// EndCursor (exclusive). Cursors are arbitrary JSON values.
type CursorConfig struct {
	BatchID     string          `json:"batch_id"`
	StartCursor json.RawMessage `json:"start_cursor"`
	EndCursor   json.RawMessage `json:"end_cursor"`
	BatchSize   int64           `json:"batch_size"`
}

// BatchOutcome is embedded in a batchable step's result as
// "batch_processing_outcome".
type BatchOutcome struct {
	Type               string         `json:"type"`
	WorkerTemplateName string         `json:"worker_template_name,omitempty"`
	WorkerCount        int            `json:"worker_count,omitempty"`
	CursorConfigs      []CursorConfig `json:"cursor_configs,omitempty"`
	TotalItems         int64          `json:"total_items,omitempty"`
}

// BatchMetadata travels with each batch worker.
type BatchMetadata struct {
	CursorField     string `json:"cursor_field,omitempty"`
	FailureStrategy string `json:"failure_strategy,omitempty"`
	BatchableStep   string `json:"batchable_step,omitempty"`
}

// BatchWorkerInputs are the run-time inputs of a batch worker instance.
type BatchWorkerInputs struct {
	Cursor           CursorConfig  `json:"cursor"`
	BatchMetadata    BatchMetadata `json:"batch_metadata"`
	IsNoOp           bool          `json:"is_no_op"`
	TemplateStepName string        `json:"__template_step_name"`
}

// Outcomes holds whatever outcomes a step result embeds.
type Outcomes struct {
	Decision *DecisionOutcome
	Batch    *BatchOutcome
}

// ExtractOutcomes reads "decision_point_outcome" and "batch_processing_outcome"
// from a step result. A result that is not a JSON object has no outcomes. A
// malformed outcome is an error wrapping ErrInvalidMessage.
func ExtractOutcomes(result json.RawMessage) (Outcomes, error) {
	var out Outcomes
	if len(result) == 0 || result[0] != '{' {
		return out, nil
	}
	var envelope struct {
		Decision json.RawMessage `json:"decision_point_outcome"`
		Batch    json.RawMessage `json:"batch_processing_outcome"`
	}
	if err := json.Unmarshal(result, &envelope); err != nil {
		return out, nil //nolint:nilerr // a result that is not an object carries no outcome
	}
	if len(envelope.Decision) > 0 && string(envelope.Decision) != "null" {
		var d DecisionOutcome
		if err := json.Unmarshal(envelope.Decision, &d); err != nil {
			return out, fmt.Errorf("%w: decision_point_outcome: %w", ErrInvalidMessage, err)
		}
		switch d.Type {
		case DecisionCreateSteps:
			if len(d.StepNames) == 0 {
				return out, fmt.Errorf("%w: decision_point_outcome.step_names: required for create_steps", ErrInvalidMessage)
			}
			for i, n := range d.StepNames {
				if err := checkStepName(fmt.Sprintf("decision_point_outcome.step_names[%d]", i), n); err != nil {
					return out, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
				}
			}
		case DecisionNoBranches:
		default:
			return out, fmt.Errorf("%w: decision_point_outcome.type: unknown value %s", ErrInvalidMessage, quoteShort(d.Type))
		}
		out.Decision = &d
	}
	if len(envelope.Batch) > 0 && string(envelope.Batch) != "null" {
		var b BatchOutcome
		if err := json.Unmarshal(envelope.Batch, &b); err != nil {
			return out, fmt.Errorf("%w: batch_processing_outcome: %w", ErrInvalidMessage, err)
		}
		switch b.Type {
		case BatchCreateBatches:
			if len(b.CursorConfigs) == 0 {
				return out, fmt.Errorf("%w: batch_processing_outcome.cursor_configs: required for create_batches", ErrInvalidMessage)
			}
			seen := make(map[string]bool, len(b.CursorConfigs))
			for i, c := range b.CursorConfigs {
				if err := c.validate(); err != nil {
					return out, fmt.Errorf("%w: batch_processing_outcome.cursor_configs[%d].%w", ErrInvalidMessage, i, err)
				}
				if seen[c.BatchID] {
					return out, fmt.Errorf("%w: batch_processing_outcome.cursor_configs[%d].batch_id: duplicate %s", ErrInvalidMessage, i, quoteShort(c.BatchID))
				}
				seen[c.BatchID] = true
			}
		case BatchNoBatches:
		default:
			return out, fmt.Errorf("%w: batch_processing_outcome.type: unknown value %s", ErrInvalidMessage, quoteShort(b.Type))
		}
		out.Batch = &b
	}
	return out, nil
}

// validate checks one cursor config against the limits; the error names
// the field relative to the config.
func (c *CursorConfig) validate() error {
	switch {
	case c.BatchID == "":
		return errors.New("batch_id: required")
	case len(c.BatchID) > MaxBatchIDBytes:
		return fmt.Errorf("batch_id: %d bytes, at most %d", len(c.BatchID), MaxBatchIDBytes)
	case c.BatchSize < 0:
		return fmt.Errorf("batch_size: must be >= 0, got %d", c.BatchSize)
	}
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"start_cursor", c.StartCursor}, {"end_cursor", c.EndCursor}} {
		if len(f.v) > MaxCursorBytes {
			return fmt.Errorf("%s: %d bytes, at most %d", f.name, len(f.v), MaxCursorBytes)
		}
		if err := CheckJSONDepth(f.v, MaxJSONDepth); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// CompensationInputs are the run-time inputs of a compensation step.
type CompensationInputs struct {
	// Compensates names the completed step this one undoes.
	Compensates string `json:"compensates"`
	// Result is that step's result (what there is to undo).
	Result json.RawMessage `json:"result,omitempty"`
	// Release names the compensation steps that wait for this one.
	Release []string `json:"release,omitempty"`
}

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// MaxCheckpointBytes bounds an encoded checkpoint (cursor, count and
// accumulated results). Checkpoints live on the step's item, which also holds
// its history, under DynamoDB's 400 KB item limit.
const MaxCheckpointBytes = 64 * 1024

// CheckpointRecord is the JSON a checkpoint is stored as, in Tasker Core's
// shape: where to resume, how much is done and what has been accumulated.
type CheckpointRecord struct {
	Cursor             json.RawMessage `json:"cursor"`
	ItemsProcessed     int64           `json:"items_processed"`
	AccumulatedResults json.RawMessage `json:"accumulated_results,omitempty"`
	Timestamp          time.Time       `json:"timestamp"`
}

// Checkpoint saves a batch worker's progress so that a later attempt resumes
// from cursor instead of the start: itemsProcessed items are done and
// accumulated holds partial results (may be nil). Items between the last
// checkpoint and a crash are processed again, so processing must be
// idempotent.
//
// It returns an error wrapping ErrCheckpointTooLarge when the encoded
// checkpoint exceeds MaxCheckpointBytes, and one wrapping
// ErrAttemptSuperseded when the step is no longer in progress on this
// attempt; the handler should then stop.
func (s *Step) Checkpoint(ctx context.Context, cursor json.RawMessage, itemsProcessed int64, accumulated json.RawMessage) error {
	if s.saveCheckpoint == nil {
		return errors.New("checkpoint: step is not running under a worker")
	}
	if len(cursor) == 0 {
		cursor = json.RawMessage("null")
	}
	rec := CheckpointRecord{Cursor: cursor, ItemsProcessed: itemsProcessed, AccumulatedResults: accumulated, Timestamp: s.now().UTC()}
	data, err := s.encodeCheckpoint(&rec)
	if err != nil {
		return err
	}
	if err := s.saveCheckpoint(ctx, data); err != nil {
		if errors.Is(err, workflow.ErrConflict) {
			return fmt.Errorf("checkpoint %s attempt %d: %w: %w", s.Name, s.Attempt, ErrAttemptSuperseded, err)
		}
		return fmt.Errorf("checkpoint %s: %w", s.Name, err)
	}
	s.LastCheckpoint = data
	return nil
}

func (s *Step) encodeCheckpoint(rec *CheckpointRecord) (json.RawMessage, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: encode: %w", s.Name, err)
	}
	if len(data) > MaxCheckpointBytes {
		return nil, fmt.Errorf("checkpoint %s: %d bytes, limit %d: %w", s.Name, len(data), MaxCheckpointBytes, ErrCheckpointTooLarge)
	}
	return data, nil
}

// ResumePoint decodes LastCheckpoint. ok is false when no checkpoint was
// saved, i.e. the handler starts from the beginning.
func (s *Step) ResumePoint() (rec CheckpointRecord, ok bool, err error) {
	if len(s.LastCheckpoint) == 0 || string(s.LastCheckpoint) == "null" {
		return rec, false, nil
	}
	if err := json.Unmarshal(s.LastCheckpoint, &rec); err != nil {
		return rec, false, fmt.Errorf("decode checkpoint of %s: %w", s.Name, err)
	}
	return rec, true, nil
}

package api

import (
	"encoding/json"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
)

// DLQ resolution statuses, as Tasker Core names them.
const (
	DLQPending           = dynamo.DLQPending
	DLQManuallyResolved  = dynamo.DLQManuallyResolved
	DLQPermanentlyFailed = dynamo.DLQPermanentlyFailed
	DLQCancelled         = dynamo.DLQCancelled
)

// DLQEntry is an entry of the dead-letter queue: an investigation record
// for a task that went stale (dlq_reason staleness_timeout, with a snapshot
// of the task and its steps taken before it was failed), or for a message
// SQS gave up on (worker_unavailable for a step queue, sqs_redrive for the
// orchestration and results queues; source names the dead-letter queue and
// message holds the message body). Fixing the task is done with the step
// actions; the entry only records the investigation.
type DLQEntry struct {
	DLQEntryUUID string `json:"dlq_entry_uuid"`
	// TaskUUID is empty for a dead-lettered message that names no task.
	TaskUUID string `json:"task_uuid,omitempty"`
	// OriginalState is the task's state when it was found stale.
	OriginalState string `json:"original_state,omitempty"`
	DLQReason     string `json:"dlq_reason"`
	// DLQTimestamp is when the entry was made.
	DLQTimestamp     time.Time `json:"dlq_timestamp"`
	ResolutionStatus string    `json:"resolution_status"`
	// ResolutionTimestamp is when the entry left pending; null until then.
	ResolutionTimestamp *time.Time `json:"resolution_timestamp"`
	ResolutionNotes     string     `json:"resolution_notes,omitempty"`
	ResolvedBy          string     `json:"resolved_by,omitempty"`
	// TaskSnapshot is the task and its steps when the entry was made
	// (staleness entries); left out of listings.
	TaskSnapshot json.RawMessage `json:"task_snapshot,omitempty"`
	// Source is the dead-letter queue a message came from.
	Source string `json:"source,omitempty"`
	// Message is why the entry was made, or the dead-lettered message's
	// body; cut to MaxListedMessage characters in listings.
	Message string `json:"message,omitempty"`
	// DetailsOmitted is true when the snapshot was left out or the message
	// cut; read the entry itself (GET /v1/dlq/entry/{uuid}) for them.
	DetailsOmitted bool      `json:"details_omitted,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// MaxListedMessage bounds the message of an entry in a listing, in bytes.
const MaxListedMessage = 256

// DLQList is the body of GET /v1/dlq.
type DLQList struct {
	Entries    []DLQEntry `json:"entries"`
	Pagination Pagination `json:"pagination"`
}

// DLQStats is the body of GET /v1/dlq/stats: entries by resolution status.
type DLQStats struct {
	TotalEntries      int `json:"total_entries"`
	Pending           int `json:"pending"`
	ManuallyResolved  int `json:"manually_resolved"`
	PermanentlyFailed int `json:"permanently_failed"`
	Cancelled         int `json:"cancelled"`
}

// dlqEntryResponse converts a stored entry. A listing (full false) leaves
// the snapshot out and cuts the message.
func dlqEntryResponse(e *dynamo.DLQEntry, full bool) DLQEntry {
	out := DLQEntry{
		DLQEntryUUID: e.UUID, TaskUUID: e.TaskUUID, DLQReason: e.Reason, DLQTimestamp: e.CreatedAt,
		ResolutionStatus: e.ResolutionStatus, ResolutionTimestamp: e.ResolvedAt, ResolutionNotes: e.Notes,
		ResolvedBy: e.ResolvedBy, TaskSnapshot: e.Snapshot, Source: e.Source, Message: e.Message,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
	if len(e.Snapshot) > 0 {
		var snap struct {
			State string `json:"state"`
		}
		if json.Unmarshal(e.Snapshot, &snap) == nil {
			out.OriginalState = snap.State
		}
	}
	if !full {
		out.omitDetails()
	}
	return out
}

// omitDetails leaves the snapshot out and cuts the message.
func (e *DLQEntry) omitDetails() {
	if len(e.TaskSnapshot) > 0 {
		e.TaskSnapshot, e.DetailsOmitted = nil, true
	}
	if len(e.Message) > MaxListedMessage {
		e.Message, e.DetailsOmitted = cutUTF8(e.Message, MaxListedMessage-len("…"))+"…", true
	}
}

// cutUTF8 returns at most n bytes of s without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

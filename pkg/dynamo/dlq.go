package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// DLQ reasons and resolution statuses, as Tasker Core names them (plus
// sqs_redrive for messages SQS moved to a dead-letter queue).
const (
	DLQReasonStaleness   = "staleness_timeout"
	DLQReasonMaxRetries  = "max_retries_exceeded"
	DLQReasonWorker      = "worker_unavailable"
	DLQReasonManual      = "manual_dlq"
	DLQReasonSQSRedrive  = "sqs_redrive"
	DLQPending           = "pending"
	DLQManuallyResolved  = "manually_resolved"
	DLQPermanentlyFailed = "permanently_failed"
	DLQCancelled         = "cancelled"
)

// DLQStatuses lists the valid resolution statuses.
var DLQStatuses = []string{DLQPending, DLQManuallyResolved, DLQPermanentlyFailed, DLQCancelled}

// DLQEntry is an investigation record: a stale task or a message SQS gave up on.
type DLQEntry struct {
	UUID             string          `json:"dlq_entry_uuid"`
	TaskUUID         string          `json:"task_uuid,omitempty"`
	Reason           string          `json:"dlq_reason"`
	ResolutionStatus string          `json:"resolution_status"`
	Snapshot         json.RawMessage `json:"task_snapshot,omitempty"`
	Source           string          `json:"source,omitempty"` // the dead-letter queue, for sqs_redrive
	Message          string          `json:"message,omitempty"`
	Notes            string          `json:"resolution_notes,omitempty"`
	ResolvedBy       string          `json:"resolved_by,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	ResolvedAt       *time.Time      `json:"resolved_at,omitempty"`
}

func dlqItem(e *DLQEntry) map[string]types.AttributeValue {
	item := key("DLQ#"+e.UUID, "DLQ")
	item[aKind] = str("dlq")
	item["entry_uuid"] = str(e.UUID)
	if e.TaskUUID != "" {
		item["task_uuid"] = str(e.TaskUUID)
	}
	item["reason"] = str(e.Reason)
	item["status"] = str(e.ResolutionStatus)
	if len(e.Snapshot) > 0 {
		item["snapshot"] = str(string(e.Snapshot))
	}
	if e.Source != "" {
		item["source"] = str(e.Source)
	}
	if e.Message != "" {
		item["message"] = str(e.Message)
	}
	item["created_at"] = timeAttr(e.CreatedAt)
	item[aUpdatedAt] = timeAttr(e.UpdatedAt)
	item[resources.AttrGSI1PK] = str("DLQ#" + e.ResolutionStatus)
	item[resources.AttrGSI1SK] = str(e.CreatedAt.UTC().Format(sortableTime) + "#" + e.UUID)
	return item
}

func decodeDLQ(it map[string]types.AttributeValue) *DLQEntry {
	return &DLQEntry{
		UUID: getS(it, "entry_uuid"), TaskUUID: getS(it, "task_uuid"), Reason: getS(it, "reason"),
		ResolutionStatus: getS(it, "status"), Snapshot: getJSON(it, "snapshot"), Source: getS(it, "source"),
		Message: getS(it, "message"), Notes: getS(it, "notes"), ResolvedBy: getS(it, "resolved_by"),
		CreatedAt: getTime(it, "created_at"), UpdatedAt: getTime(it, aUpdatedAt), ResolvedAt: getTimePtr(it, "resolved_at"),
	}
}

// PutDLQEntry records a DLQ entry. An entry about a task also gets a
// per-task index item; a staleness entry also gets, while pending, a guard
// that keeps at most one pending staleness entry per task (a second one
// returns workflow.ErrConflict). Entries for dead-lettered messages are not
// limited: each message gets its own.
func (s *Store) PutDLQEntry(ctx context.Context, e *DLQEntry) error {
	notExists := aws.String("attribute_not_exists(pk)")
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: dlqItem(e), ConditionExpression: notExists}}}
	if e.TaskUUID != "" {
		ptr := key(taskPK(e.TaskUUID), "DLQ#"+e.UUID)
		ptr[aKind] = str("dlq_ref")
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: ptr}})
		if e.ResolutionStatus == DLQPending && e.Reason == DLQReasonStaleness {
			guard := key(taskPK(e.TaskUUID), "DLQPENDING")
			guard["entry_uuid"] = str(e.UUID)
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: guard, ConditionExpression: notExists}})
		}
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return mapErr("put dlq entry", err)
}

// GetDLQEntry reads an entry; workflow.ErrNotFound when missing.
func (s *Store) GetDLQEntry(ctx context.Context, id string) (*DLQEntry, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key("DLQ#"+id, "DLQ"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr("get dlq entry", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("dlq entry %s: %w", id, workflow.ErrNotFound)
	}
	return decodeDLQ(out.Item), nil
}

// DLQEntriesForTask lists a task's entries, oldest first.
func (s *Store) DLQEntriesForTask(ctx context.Context, taskUUID string) ([]*DLQEntry, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(taskPK(taskUUID)), ":p": str("DLQ#")},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, mapErr("list task dlq entries", err)
	}
	var entries []*DLQEntry
	for _, it := range out.Items {
		e, err := s.GetDLQEntry(ctx, getS(it, "sk")[len("DLQ#"):])
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// DLQPage is one page of DLQ entries.
type DLQPage struct {
	Entries []*DLQEntry
	Cursor  string
}

// ListDLQ lists entries with a resolution status, newest first.
func (s *Store) ListDLQ(ctx context.Context, status string, limit int, cursor string) (*DLQPage, error) {
	scope := "DLQ#" + status
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(resources.IndexByNamespace),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(scope)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	out, err := s.queryPage(ctx, in, "list dlq", scope, cursor, func(k map[string]string) bool {
		return k["sk"] == "DLQ" && (k["gsi1pk"] == "" || k["gsi1pk"] == scope)
	})
	if err != nil {
		return nil, err
	}
	page := &DLQPage{}
	for _, it := range out.Items {
		page.Entries = append(page.Entries, decodeDLQ(it))
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Cursor = encodeCursor(scope, out.LastEvaluatedKey)
	}
	return page, nil
}

// CountDLQ counts entries with a resolution status.
func (s *Store) CountDLQ(ctx context.Context, status string) (int, error) {
	n := 0
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(resources.IndexByNamespace),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("DLQ#" + status)},
		Select:                    types.SelectCount,
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, mapErr("count dlq", err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ResolveDLQEntry changes an entry's resolution status (and clears the
// task's pending guard when it leaves pending). It returns
// workflow.ErrNotFound for a missing entry.
func (s *Store) ResolveDLQEntry(ctx context.Context, id, status, notes, by string, now time.Time) (*DLQEntry, error) {
	cur, err := s.GetDLQEntry(ctx, id)
	if err != nil {
		return nil, err
	}
	set := "SET #st = :st, gsi1pk = :g, updated_at = :now"
	vals := map[string]types.AttributeValue{":st": str(status), ":g": str("DLQ#" + status), ":now": timeAttr(now)}
	if notes != "" {
		set += ", notes = :n"
		vals[":n"] = str(notes)
	}
	if by != "" {
		set += ", resolved_by = :b"
		vals[":b"] = str(by)
	}
	if status != DLQPending {
		set += ", resolved_at = :now"
	}
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: key("DLQ#"+id, "DLQ"),
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{"#st": "status"}, ExpressionAttributeValues: vals}}}
	if cur.TaskUUID != "" && cur.ResolutionStatus == DLQPending && status != DLQPending {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(taskPK(cur.TaskUUID), "DLQPENDING"),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR entry_uuid = :e"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": str(id)}}})
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return nil, mapErr("resolve dlq entry", err)
	}
	return s.GetDLQEntry(ctx, id)
}

// ScheduleTaskSweep sets when the sweeper next looks at a task (staleness).
func (s *Store) ScheduleTaskSweep(ctx context.Context, taskUUID string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), skTask),
		UpdateExpression:          aws.String("SET sweep_shard = :shard, sweep_at = :due"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":shard": sweepShard(taskPK(taskUUID), skTask), ":due": sweepAt(at)},
	})
	return mapErr("schedule task sweep", err)
}

// ClearTaskSweep stops the sweeper from looking at a task.
func (s *Store) ClearTaskSweep(ctx context.Context, taskUUID string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), skTask),
		UpdateExpression: aws.String("REMOVE sweep_shard, sweep_at"),
	})
	return mapErr("clear task sweep", err)
}

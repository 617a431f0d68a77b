package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// MaxContextBytes is the largest task context the store accepts; the context
// item must stay under DynamoDB's 400 KB item limit.
const MaxContextBytes = 256 * 1024

// StartRecoveryAfter is how long a task may stay pending before the sweeper
// starts it (the intake that created it crashed before starting it).
const StartRecoveryAfter = time.Minute

// CreateTask writes a new task, its context, its identity (when it has an
// identity hash) and its initial steps, in three steps, none a transaction:
//
//  1. the steps and the context, with plain batch writes under the new
//     task's key, which nobody knows yet;
//  2. the identity, new (attribute_not_exists) or taken over from a dangling
//     one (claimIdentity);
//  3. the task item, new (attribute_not_exists), which publishes the task.
//
// When the identity is refused or a write certainly failed, what this call
// wrote is deleted again (best effort); when the task write's outcome is
// unknown everything stays, since the task may exist. A process that stops
// in between leaves items under a key without a task item, which no reader
// serves, and perhaps an identity naming no task, which the next creation
// with that identity takes over after IdentityClaimTimeout
// (docs/data-model.md). It returns workflow.ErrDuplicateTask when the
// identity names another task and workflow.ErrTooLarge for an oversized
// context.
func (s *Store) CreateTask(ctx context.Context, t *workflow.Task, steps []*workflow.Step) error {
	return s.CreateTaskWith(ctx, t, steps, nil)
}

// CreateTaskWith is CreateTask calling beforePublish (when not nil) after
// the identity is claimed and right before the task item is written: the
// engine waits there for the task's first check to be sent, sets
// t.FirstCheckSent, and refuses to publish a creation that took too long
// (an error from beforePublish: what this call wrote is removed, its
// identity released, and the error returned).
func (s *Store) CreateTaskWith(ctx context.Context, t *workflow.Task, steps []*workflow.Step, beforePublish func(*workflow.Task) error) error {
	if len(t.Context) > MaxContextBytes {
		return fmt.Errorf("create task: context is %d bytes, limit %d: %w", len(t.Context), MaxContextBytes, workflow.ErrTooLarge)
	}
	if err := s.putUnpublished(ctx, t, steps); err != nil {
		return withCleanup(err, s.removeUnpublished(ctx, t.UUID, steps))
	}
	if t.IdentityHash != "" {
		if err := s.claimIdentity(ctx, t); err != nil {
			// The task is never published. An identity this call may
			// have written (an unknown outcome) dangles until taken over.
			return withCleanup(err, s.removeUnpublished(ctx, t.UUID, steps))
		}
	}
	if beforePublish != nil {
		if err := beforePublish(t); err != nil {
			return withCleanup(err, errors.Join(s.releaseIdentity(ctx, t), s.removeUnpublished(ctx, t.UUID, steps)))
		}
	}
	err := s.publishTask(ctx, t)
	switch {
	case err == nil:
		return nil
	case !notCommitted(err):
		// The task may exist: everything stays (orphans if it does not).
		return mapErr("create task", err)
	}
	cleanup := errors.Join(s.releaseIdentity(ctx, t), s.removeUnpublished(ctx, t.UUID, steps))
	return withCleanup(mapErr("create task", err), cleanup)
}

// publishTask writes the item of a new task, which publishes it. The task's
// UUID is new to this creation, so a task item already there is this
// call's own: an attempt whose reply was lost landed, and the SDK's retry
// of the put failed its condition.
func (s *Store) publishTask(ctx context.Context, t *workflow.Task) error {
	ti := taskItem(t)
	if !t.State.Terminal() && !t.FirstCheckSent {
		ti[resources.AttrSweepShard] = sweepShard(taskPK(t.UUID), skTask)
		first := t.FirstCheckAt
		if first.IsZero() {
			first = t.CreatedAt.Add(StartRecoveryAfter)
		}
		ti[resources.AttrSweepAt] = sweepAt(first)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: ti, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if conditionFailed(err) {
		return nil
	}
	return err
}

// contextItem is a new task's context item.
func contextItem(t *workflow.Task) map[string]types.AttributeValue {
	ci := key(taskPK(t.UUID), skContext)
	ci[aKind] = str("context")
	ctxJSON := t.Context
	if len(ctxJSON) == 0 {
		ctxJSON = json.RawMessage("{}")
	}
	ci[aData] = str(string(ctxJSON))
	return ci
}

// withCleanup adds a failed cleanup to err's message; callers still match
// err alone (the cleanup error is not wrapped).
func withCleanup(err, cleanup error) error {
	if cleanup == nil {
		return err
	}
	return errors.Join(err, fmt.Errorf("%v (left as an orphan, read by no one)", cleanup))
}

// GetTask reads a task (strongly consistent), without its context. It returns
// workflow.ErrNotFound when the task does not exist.
func (s *Store) GetTask(ctx context.Context, taskUUID string) (*workflow.Task, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(taskPK(taskUUID), skTask), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr("get task", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get task %s: %w", taskUUID, workflow.ErrNotFound)
	}
	return decodeTask(out.Item)
}

// GetContext reads a task's context. The context never changes after
// creation, so an eventually consistent read is enough once the task exists.
func (s *Store) GetContext(ctx context.Context, taskUUID string) (json.RawMessage, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(taskPK(taskUUID), skContext), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr("get context", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get context %s: %w", taskUUID, workflow.ErrNotFound)
	}
	return json.RawMessage(getS(out.Item, aData)), nil
}

// TaskChange is a guarded change of a task's state.
type TaskChange struct {
	From        statemachine.TaskState
	To          statemachine.TaskState
	Transitions []workflow.Transition
	At          time.Time
	// SetCompensating marks the task as running its compensations.
	SetCompensating bool
	// SweepAt, when set, schedules the sweeper's next look at the task
	// (staleness, lost messages, claims past their deadline); zero keeps
	// the current schedule; a change to a terminal state always clears it.
	SweepAt time.Time
}

// TransitionTask applies a guarded state change to a task. It returns
// workflow.ErrConflict when the task is not in change.From and
// workflow.ErrNotFound when the task does not exist.
func (s *Store) TransitionTask(ctx context.Context, taskUUID string, c TaskChange) (*workflow.Task, error) {
	in := s.taskChangeUpdate(taskUUID, c)
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if err != nil {
		err = mapErr(fmt.Sprintf("task %s %s->%s", taskUUID, c.From, c.To), err)
		if isConflict(err) {
			if _, gerr := s.GetTask(ctx, taskUUID); gerr != nil {
				return nil, gerr
			}
		}
		return nil, err
	}
	return decodeTask(out.Attributes)
}

func (s *Store) taskChangeUpdate(taskUUID string, c TaskChange) *dynamodb.UpdateItemInput {
	vals := map[string]types.AttributeValue{
		":to": str(string(c.To)), ":from": str(string(c.From)), ":one": num(1), ":now": timeAttr(c.At),
	}
	names := map[string]string{}
	set := "SET st = :to, rev = rev + :one, updated_at = :now" + historySet(c.At, uncorrelated(c.Transitions), names, vals)
	cond := "st = :from"
	if c.To.Terminal() {
		set += ", completed_at = :now"
	}
	if c.SetCompensating {
		set += ", compensating = :comp"
		vals[":comp"] = boolean(true)
	}
	remove := ""
	switch {
	case !c.SweepAt.IsZero() && !c.To.Terminal():
		set += ", sweep_shard = :shard, sweep_at = :due"
		vals[":shard"] = sweepShard(taskPK(taskUUID), skTask)
		vals[":due"] = sweepAt(c.SweepAt)
	case c.To.Terminal():
		remove = " REMOVE sweep_shard, sweep_at"
	}
	return &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), skTask),
		UpdateExpression:          aws.String(set + remove),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
		ExpressionAttributeNames:  nilIfEmpty(names),
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// SetPaused sets or clears a task's paused flag; checkAt, when set, also
// schedules the sweeper's next look at the task. It returns
// workflow.ErrNotFound when the task does not exist.
func (s *Store) SetPaused(ctx context.Context, taskUUID string, paused bool, now, checkAt time.Time) error {
	set := "SET paused = :p, rev = rev + :one, updated_at = :now"
	vals := map[string]types.AttributeValue{":p": boolean(paused), ":one": num(1), ":now": timeAttr(now)}
	if !checkAt.IsZero() {
		set += ", sweep_shard = :shard, sweep_at = :due"
		vals[":shard"], vals[":due"] = sweepShard(taskPK(taskUUID), skTask), sweepAt(checkAt)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), skTask),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		if e := mapErr("set paused", err); isConflict(e) {
			return fmt.Errorf("set paused %s: %w", taskUUID, workflow.ErrNotFound)
		}
		return mapErr("set paused", err)
	}
	return nil
}

// TaskPage is one page of a task listing.
type TaskPage struct {
	Tasks  []*workflow.Task
	Cursor string // opaque; "" when there are no more
}

// TaskFilter narrows a task listing; empty fields match everything.
type TaskFilter struct {
	Namespace    string
	Status       string
	Initiator    string
	SourceSystem string
}

// ListTasks lists tasks matching f. With a namespace it queries that
// namespace's index (newest first); without one it scans the table, which
// costs in proportion to the table: fine for operators, not for hot paths.
// A page may hold fewer than limit tasks when filters skip some; follow
// Cursor until it is empty.
func (s *Store) ListTasks(ctx context.Context, f TaskFilter, limit int, cursor string) (*TaskPage, error) {
	conds := []string{}
	vals := map[string]types.AttributeValue{}
	names := map[string]string{}
	add := func(attr, v string) {
		if v == "" {
			return
		}
		n, p := "#f"+attr, ":f"+attr
		names[n], vals[p] = attr, str(v)
		conds = append(conds, n+" = "+p)
	}
	add("st", f.Status)
	add("initiator", f.Initiator)
	add("source_system", f.SourceSystem)
	scope := "ALL"
	if f.Namespace != "" {
		scope = "NS#" + f.Namespace
	} else {
		add("kind", "task")
	}
	filter := join(conds, " AND ")
	scopeKey := strings.Join([]string{scope, filter, f.Status, f.Initiator, f.SourceSystem}, "\x1f")
	var start map[string]types.AttributeValue
	if cursor != "" {
		var err error
		start, err = decodeCursor(cursor, scopeKey,
			[]string{"pk", "sk", "gsi1pk", "gsi1sk"}, taskListCursorOK(f.Namespace))
		if err != nil {
			return nil, err
		}
	}
	var items []map[string]types.AttributeValue
	var last map[string]types.AttributeValue
	if f.Namespace != "" {
		vals[":p"] = str(scope)
		in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(resources.IndexByNamespace),
			KeyConditionExpression: aws.String("gsi1pk = :p"), ExpressionAttributeValues: vals,
			ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start}
		if filter != "" {
			in.FilterExpression, in.ExpressionAttributeNames = aws.String(filter), names
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, s.listErr(cursor, err)
		}
		items, last = out.Items, out.LastEvaluatedKey
	} else {
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: &s.table, FilterExpression: aws.String(filter),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals, Limit: aws.Int32(int32(max(limit, 100))),
			ExclusiveStartKey: start})
		if err != nil {
			return nil, s.listErr(cursor, err)
		}
		items, last = out.Items, out.LastEvaluatedKey
		if len(items) > limit {
			// Keep the page to limit tasks and resume right after the last one kept.
			items = items[:limit]
			last = key(getS(items[limit-1], resources.AttrPK), getS(items[limit-1], resources.AttrSK))
		}
	}
	page := &TaskPage{}
	for _, it := range items {
		t, err := decodeTask(it)
		if err != nil {
			return nil, err
		}
		page.Tasks = append(page.Tasks, t)
	}
	if len(last) > 0 {
		page.Cursor = encodeCursor(scopeKey, last)
	}
	return page, nil
}

func (s *Store) listErr(cursor string, err error) error {
	if cursor != "" && isValidation(err) {
		return fmt.Errorf("list tasks: %w", ErrBadCursor)
	}
	return mapErr("list tasks", err)
}

// AddCompensationFailure records, on the task, a compensation step that
// failed for good.
func (s *Store) AddCompensationFailure(ctx context.Context, taskUUID, step string, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), skTask),
		UpdateExpression:          aws.String("ADD comp_failed :s SET updated_at = :now"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberSS{Value: []string{step}}, ":now": timeAttr(now)},
	})
	return mapErr("record compensation failure", err)
}

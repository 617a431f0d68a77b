package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// writeRecorder passes every call to the real client (the emulator) and
// records the write requests the store sends. failBatchWrite makes that
// BatchWriteItem call (1-based) fail before it is sent; throttleBatchWrite
// makes that call write only the first half of its requests and hand the
// rest back unprocessed, as DynamoDB does when throttled. PutItem calls are
// keyed by the item's sort key: failPut makes them fail before they are
// sent, with an error DynamoDB only returns for a write it did not apply;
// losePutReply makes them fail after they were applied, as when the response
// is lost; retryPut sends them twice and answers with the second reply, as
// the SDK's retry of an attempt whose reply was lost.
type writeRecorder struct {
	*dynamodb.Client
	failBatchWrite     int64
	throttleBatchWrite int64
	failPut            string
	losePutReply       string
	retryPut           string

	batchCalls atomic.Int64
	mu         sync.Mutex
	putSKs     []string // sort keys of the BatchWriteItem put requests sent
	deleteSKs  []string // sort keys of the BatchWriteItem delete requests sent
	transacts  []int    // items of each TransactWriteItems
	others     []string
}

var (
	errLostReply = errors.New("connection reset after the request was sent")
	errRejected  = &smithy.GenericAPIError{Code: "ValidationException", Message: "injected rejection"}
)

func skOf(item map[string]types.AttributeValue) string {
	return item["sk"].(*types.AttributeValueMemberS).Value
}

func (w *writeRecorder) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	call := w.batchCalls.Add(1)
	if call == w.failBatchWrite {
		return nil, errors.New("injected BatchWriteItem failure")
	}
	send, unprocessed := in.RequestItems, map[string][]types.WriteRequest{}
	if call == w.throttleBatchWrite {
		send = map[string][]types.WriteRequest{}
		for table, reqs := range in.RequestItems {
			half := len(reqs) / 2
			send[table], unprocessed[table] = reqs[:half], reqs[half:]
		}
	}
	w.mu.Lock()
	for _, reqs := range send {
		for _, r := range reqs {
			if r.PutRequest != nil {
				w.putSKs = append(w.putSKs, skOf(r.PutRequest.Item))
			} else {
				w.deleteSKs = append(w.deleteSKs, skOf(r.DeleteRequest.Key))
			}
		}
	}
	w.mu.Unlock()
	out, err := w.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: send}, opts...)
	if err == nil && len(unprocessed) > 0 {
		out.UnprocessedItems = unprocessed
	}
	return out, err
}

func (w *writeRecorder) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	w.mu.Lock()
	w.transacts = append(w.transacts, len(in.TransactItems))
	w.mu.Unlock()
	return w.Client.TransactWriteItems(ctx, in, opts...)
}

func (w *writeRecorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	sk := skOf(in.Item)
	w.other("PutItem " + sk)
	switch sk {
	case w.failPut:
		return nil, errRejected
	case w.retryPut:
		if _, err := w.Client.PutItem(ctx, in, opts...); err != nil {
			return nil, err
		}
	}
	out, err := w.Client.PutItem(ctx, in, opts...)
	if err == nil && sk == w.losePutReply {
		return nil, errLostReply
	}
	return out, err
}

func (w *writeRecorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	w.other("UpdateItem")
	return w.Client.UpdateItem(ctx, in, opts...)
}

func (w *writeRecorder) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	w.other("DeleteItem " + skOf(in.Key))
	return w.Client.DeleteItem(ctx, in, opts...)
}

func (w *writeRecorder) other(op string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.others = append(w.others, op)
}

// recordedStore is a store whose writes rec records, and the raw client
// and table to look at what it wrote.
func recordedStore(t *testing.T, rec *writeRecorder) (*dynamo.Store, *dynamodb.Client, string) {
	t.Helper()
	f := localtest.New(t)
	rec.Client = f.Env.DynamoDB
	return dynamo.New(rec, f.Names.StateTable()), f.Env.DynamoDB, f.Names.StateTable()
}

// partition reads every item under a task's key, whatever its kind.
func partition(t *testing.T, db *dynamodb.Client, table, taskUUID string) []map[string]types.AttributeValue {
	t.Helper()
	out, err := db.Query(t.Context(), &dynamodb.QueryInput{
		TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "T#" + taskUUID}},
	})
	require.NoError(t, err)
	return out.Items
}

// convergence is a pending step counting more dependencies than its item
// keeps inline.
func convergence(name string, n int) *workflow.Step {
	st := newStep(name)
	st.Type, st.CountsDependencies = "deferred_convergence", true
	for i := range n {
		st.Dependencies = append(st.Dependencies, fmt.Sprintf("dep%03d", i))
	}
	return st
}

// identityItem reads an identity item as stored, or nil.
func identityItem(t *testing.T, db *dynamodb.Client, table, hash string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ID#" + hash}, "sk": &types.AttributeValueMemberS{Value: "ID"}}})
	require.NoError(t, err)
	return out.Item
}

// TestCreateTaskWritesStepsThenPublishes checks the requests of a creation:
// the context and the steps in batch writes of 25 (one write unit per KB
// each), then the identity and the task, each one PutItem, and nothing else:
// no transaction.
func TestCreateTaskWritesStepsThenPublishes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		steps    int
		identity bool
		batches  int64
		puts     []string
	}{
		{"order workflow", 6, true, 1, []string{"PutItem ID", "PutItem TASK"}},
		{"no identity", 6, false, 1, []string{"PutItem TASK"}},
		{"no steps", 0, true, 1, []string{"PutItem ID", "PutItem TASK"}},
		{"one full batch", 24, true, 1, []string{"PutItem ID", "PutItem TASK"}},
		{"more than a transaction holds", 230, true, 10, []string{"PutItem ID", "PutItem TASK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &writeRecorder{}
			s, _, _ := recordedStore(t, rec)
			task := newTask("suite", t0)
			if tt.identity {
				task.IdentityHash = "identity-" + task.UUID
			}
			require.NoError(t, s.CreateTask(t.Context(), task, namedSteps("s", tt.steps)))

			require.Equal(t, tt.batches, rec.batchCalls.Load(), "BatchWriteItem requests")
			require.Len(t, rec.putSKs, tt.steps+1, "the context and the steps")
			require.Contains(t, rec.putSKs, "CTX", "the context goes in a batch with the steps")
			require.Empty(t, rec.deleteSKs)
			require.Empty(t, rec.transacts, "no transaction")
			require.Equal(t, tt.puts, rec.others, "identity, then task, and no other writes")
			steps, err := s.ListSteps(t.Context(), task.UUID)
			require.NoError(t, err)
			require.Len(t, steps, tt.steps)
			for _, st := range steps {
				require.Equal(t, statemachine.StepPending, st.State)
				require.Equal(t, task.UUID, st.TaskUUID)
			}
			require.Equal(t, statemachine.TaskStepsInProcess, getTask(t, s, task.UUID).State)
			c, err := s.GetContext(t.Context(), task.UUID)
			require.NoError(t, err)
			require.JSONEq(t, `{"order":42}`, string(c))
		})
	}
}

// TestCreateTaskRetriesUnprocessedSteps: steps DynamoDB hands back
// unprocessed are sent again.
func TestCreateTaskRetriesUnprocessedSteps(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{throttleBatchWrite: 1}
	s, _, _ := recordedStore(t, rec)
	task := newTask("suite", t0)
	require.NoError(t, s.CreateTask(t.Context(), task, namedSteps("s", 10)))
	require.Equal(t, int64(2), rec.batchCalls.Load(), "the first request, then the unprocessed half")
	require.Len(t, rec.putSKs, 11)
	steps, err := s.ListSteps(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, steps, 10)
}

// TestCreateTaskStoresLongDependenciesFirst: an initial step counting more
// dependencies than its item keeps points at a list written before it.
func TestCreateTaskStoresLongDependenciesFirst(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{}
	s, db, table := recordedStore(t, rec)
	task := newTask("suite", t0)
	conv := convergence("join", dynamo.MaxInlineCountedDependencies+8)
	require.NoError(t, s.CreateTask(t.Context(), task, []*workflow.Step{newStep("a"), conv}))

	require.Equal(t, []string{"PutItem B#join#deps#0000", "PutItem TASK"}, rec.others, "the list, before the steps; the task last")
	raw, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "T#" + task.UUID}, "sk": &types.AttributeValueMemberS{Value: "S#join"}}})
	require.NoError(t, err)
	require.NotContains(t, raw.Item, "deps")
	require.Contains(t, raw.Item, "deps_ref")
	got := getStep(t, s, task.UUID, "join")
	require.Equal(t, conv.Dependencies, got.Dependencies)
	require.False(t, got.DependenciesMet())
}

// TestCreateTaskRejectedLeavesNoSteps: a creation refused as a duplicate
// (the identity exists) removes the context and the steps it wrote, and the
// out-of-line lists, and writes no task.
func TestCreateTaskRejectedLeavesNoSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps func() []*workflow.Step
	}{
		{"few steps", func() []*workflow.Step { return namedSteps("s", 6) }},
		{"many steps", func() []*workflow.Step { return namedSteps("s", 150) }},
		{"a long dependency list", func() []*workflow.Step {
			return append(namedSteps("s", 3), convergence("join", dynamo.MaxInlineCountedDependencies+1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &writeRecorder{}
			s, db, table := recordedStore(t, rec)
			first := newTask("suite", t0)
			first.IdentityHash = "same-identity"
			require.NoError(t, s.CreateTask(t.Context(), first, tt.steps()))
			before := len(partition(t, db, table, first.UUID))

			rec.others, rec.putSKs = nil, nil
			second := newTask("suite", t0.Add(time.Second))
			second.IdentityHash = "same-identity"
			steps := tt.steps()
			err := s.CreateTask(t.Context(), second, steps)
			require.ErrorIs(t, err, workflow.ErrDuplicateTask)
			require.Equal(t, "create task: duplicate task", err.Error(), "the removal succeeded and is not reported")

			require.Empty(t, rec.transacts)
			require.Contains(t, rec.putSKs, "CTX", "the context was written with the steps")
			require.Contains(t, rec.deleteSKs, "CTX", "and removed with them")
			require.Contains(t, rec.others, "PutItem ID")
			require.NotContains(t, rec.others, "PutItem TASK", "no task is written")
			require.Empty(t, partition(t, db, table, second.UUID), "nothing is left under the rejected task's key")
			require.Len(t, partition(t, db, table, first.UUID), before, "the first task is untouched")
			owner, err := s.LookupIdentity(t.Context(), "same-identity")
			require.NoError(t, err)
			require.Equal(t, first.UUID, owner)
		})
	}
}

// TestCreateTaskDanglingIdentity: an identity naming a task that does not
// exist (its creator stopped between the identity and the task) is taken
// over once it is IdentityClaimTimeout older than the new task, and refused
// as a duplicate before, since its creation may still be under way.
func TestCreateTaskDanglingIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		age      time.Duration
		takeOver bool
	}{
		{"older than the timeout", dynamo.IdentityClaimTimeout + time.Second, true},
		{"just at the timeout", dynamo.IdentityClaimTimeout, true},
		{"younger than the timeout", dynamo.IdentityClaimTimeout - time.Second, false},
		{"just claimed", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &writeRecorder{}
			s, db, table := recordedStore(t, rec)
			hash, gone := "dangling-"+uuid.NewString(), uuid.NewString()
			_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "ID#" + hash}, "sk": &types.AttributeValueMemberS{Value: "ID"},
				"task_uuid":  &types.AttributeValueMemberS{Value: gone},
				"created_at": &types.AttributeValueMemberS{Value: t0.Add(-tt.age).Format(time.RFC3339Nano)},
			}})
			require.NoError(t, err)
			_, err = s.LookupIdentity(t.Context(), hash)
			require.ErrorIs(t, err, workflow.ErrNotFound, "a dangling identity names no task")

			task := newTask("suite", t0)
			task.IdentityHash = hash
			err = s.CreateTask(t.Context(), task, namedSteps("s", 4))
			if !tt.takeOver {
				require.ErrorIs(t, err, workflow.ErrDuplicateTask)
				require.Equal(t, []string{"PutItem ID"}, rec.others)
				require.Empty(t, partition(t, db, table, task.UUID))
				require.Equal(t, gone, identityItem(t, db, table, hash)["task_uuid"].(*types.AttributeValueMemberS).Value)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{"PutItem ID", "PutItem ID", "PutItem TASK"}, rec.others, "refused, taken over, published")
			owner, err := s.LookupIdentity(t.Context(), hash)
			require.NoError(t, err)
			require.Equal(t, task.UUID, owner)
			require.Equal(t, t0.Format(time.RFC3339Nano), identityItem(t, db, table, hash)["created_at"].(*types.AttributeValueMemberS).Value)
			require.Len(t, partition(t, db, table, task.UUID), 6, "task, context and steps")

			late := newTask("suite", t0.Add(time.Hour))
			late.IdentityHash = hash
			require.ErrorIs(t, s.CreateTask(t.Context(), late, nil), workflow.ErrDuplicateTask, "the identity is held again")
		})
	}
}

// TestCreateTaskRetriedPutsAreItsOwn: a put whose reply was lost and which
// the SDK sent again fails its condition against its own first attempt;
// the creation recognises its own identity and task and succeeds.
func TestCreateTaskRetriedPutsAreItsOwn(t *testing.T) {
	t.Parallel()
	for _, sk := range []string{"ID", "TASK"} {
		t.Run(sk, func(t *testing.T) {
			t.Parallel()
			rec := &writeRecorder{retryPut: sk}
			s, db, table := recordedStore(t, rec)
			task := newTask("suite", t0)
			task.IdentityHash = "identity-" + task.UUID
			require.NoError(t, s.CreateTask(t.Context(), task, namedSteps("s", 3)))
			require.Empty(t, rec.deleteSKs)
			owner, err := s.LookupIdentity(t.Context(), task.IdentityHash)
			require.NoError(t, err)
			require.Equal(t, task.UUID, owner)
			require.Len(t, partition(t, db, table, task.UUID), 5, "task, context and steps")
		})
	}
}

// TestCreateTaskFailedTaskPutReleasesIdentity: when DynamoDB rejects the
// task's put, the identity is deleted again (it names this task), and the
// context and steps with it, so a retry of the request is not a duplicate.
func TestCreateTaskFailedTaskPutReleasesIdentity(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{failPut: "TASK"}
	s, db, table := recordedStore(t, rec)
	task := newTask("suite", t0)
	task.IdentityHash = "identity-" + task.UUID
	err := s.CreateTask(t.Context(), task, namedSteps("s", 6))
	require.ErrorIs(t, err, errRejected)
	require.NotErrorIs(t, err, workflow.ErrDuplicateTask)
	require.Equal(t, []string{"PutItem ID", "PutItem TASK", "DeleteItem ID"}, rec.others)
	require.Nil(t, identityItem(t, db, table, task.IdentityHash), "the identity is released")
	require.Empty(t, partition(t, db, table, task.UUID))

	rec.failPut = ""
	again := newTask("suite", t0.Add(time.Second))
	again.IdentityHash = task.IdentityHash
	require.NoError(t, s.CreateTask(t.Context(), again, namedSteps("s", 6)))
}

// TestCreateTaskFailedStepWriteLeavesNothing: when a batch of steps cannot
// be written, the task is not published and the batches written are removed.
func TestCreateTaskFailedStepWriteLeavesNothing(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{failBatchWrite: 2}
	s, db, table := recordedStore(t, rec)
	task := newTask("suite", t0)
	task.IdentityHash = "identity-" + task.UUID
	err := s.CreateTask(t.Context(), task, namedSteps("s", 120))
	require.ErrorContains(t, err, "injected BatchWriteItem failure")
	require.Empty(t, rec.others, "neither identity nor task is written")
	require.Empty(t, partition(t, db, table, task.UUID))
}

// TestCreateTaskUnknownOutcomeKeepsSteps: when the task put's outcome is
// unknown (its reply lost), everything stays, because the task may exist;
// here it does, and it is whole.
func TestCreateTaskUnknownOutcomeKeepsSteps(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{losePutReply: "TASK"}
	s, _, _ := recordedStore(t, rec)
	task := newTask("suite", t0)
	task.IdentityHash = "identity-" + uuid.NewString()
	err := s.CreateTask(t.Context(), task, namedSteps("s", 6))
	require.ErrorIs(t, err, errLostReply)
	require.NotErrorIs(t, err, workflow.ErrDuplicateTask)
	require.Empty(t, rec.deleteSKs, "nothing is deleted")
	require.Equal(t, []string{"PutItem ID", "PutItem TASK"}, rec.others, "the identity is kept")
	getTask(t, s, task.UUID)
	steps, err := s.ListSteps(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, steps, 6)
	owner, err := s.LookupIdentity(t.Context(), task.IdentityHash)
	require.NoError(t, err)
	require.Equal(t, task.UUID, owner)
}

// TestCreateTaskUnknownIdentityOutcomeIsNotPublished: when the identity put's
// outcome is unknown, the task is not published and its context and steps
// are removed; the identity it may have written dangles and is taken over.
func TestCreateTaskUnknownIdentityOutcomeIsNotPublished(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{losePutReply: "ID"}
	s, db, table := recordedStore(t, rec)
	task := newTask("suite", t0)
	task.IdentityHash = "identity-" + uuid.NewString()
	err := s.CreateTask(t.Context(), task, namedSteps("s", 6))
	require.ErrorIs(t, err, errLostReply)
	require.Equal(t, []string{"PutItem ID"}, rec.others, "no task is written")
	require.Empty(t, partition(t, db, table, task.UUID))

	rec.losePutReply = ""
	soon := newTask("suite", t0.Add(time.Second))
	soon.IdentityHash = task.IdentityHash
	require.ErrorIs(t, s.CreateTask(t.Context(), soon, nil), workflow.ErrDuplicateTask)
	later := newTask("suite", t0.Add(dynamo.IdentityClaimTimeout))
	later.IdentityHash = task.IdentityHash
	require.NoError(t, s.CreateTask(t.Context(), later, nil))
}

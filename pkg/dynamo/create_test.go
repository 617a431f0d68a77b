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
// rest back unprocessed, as DynamoDB does when throttled; loseTransactReply
// makes every TransactWriteItems fail after it was applied, as when the
// response is lost.
type writeRecorder struct {
	*dynamodb.Client
	failBatchWrite     int64
	throttleBatchWrite int64
	loseTransactReply  bool

	batchCalls atomic.Int64
	mu         sync.Mutex
	puts       int   // BatchWriteItem put requests sent
	deletes    int   // BatchWriteItem delete requests sent
	transacts  []int // items of each TransactWriteItems
	others     []string
}

var errLostReply = errors.New("connection reset after the request was sent")

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
				w.puts++
			} else {
				w.deletes++
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
	out, err := w.Client.TransactWriteItems(ctx, in, opts...)
	if err == nil && w.loseTransactReply {
		return nil, errLostReply
	}
	return out, err
}

func (w *writeRecorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	w.other("PutItem " + in.Item["sk"].(*types.AttributeValueMemberS).Value)
	return w.Client.PutItem(ctx, in, opts...)
}

func (w *writeRecorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	w.other("UpdateItem")
	return w.Client.UpdateItem(ctx, in, opts...)
}

func (w *writeRecorder) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	w.other("DeleteItem")
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

// TestCreateTaskWritesStepsThenPublishes checks the requests of a creation:
// the steps in batch writes of 25 (one write unit per KB each), then one
// transaction of identity, task and context, and nothing else.
func TestCreateTaskWritesStepsThenPublishes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		steps       int
		identity    bool
		batches     int64
		transaction int
	}{
		{"order workflow", 6, true, 1, 3},
		{"no identity", 6, false, 1, 2},
		{"no steps", 0, true, 0, 3},
		{"one full batch", 25, true, 1, 3},
		{"more than a transaction holds", 230, true, 10, 3},
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
			require.Equal(t, tt.steps, rec.puts, "step puts")
			require.Zero(t, rec.deletes)
			require.Equal(t, []int{tt.transaction}, rec.transacts, "one transaction of identity, task and context")
			require.Empty(t, rec.others, "no other writes")
			steps, err := s.ListSteps(t.Context(), task.UUID)
			require.NoError(t, err)
			require.Len(t, steps, tt.steps)
			for _, st := range steps {
				require.Equal(t, statemachine.StepPending, st.State)
				require.Equal(t, task.UUID, st.TaskUUID)
			}
			require.Equal(t, statemachine.TaskStepsInProcess, getTask(t, s, task.UUID).State)
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
	require.Equal(t, 10, rec.puts)
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

	require.Equal(t, []string{"PutItem B#join#deps#0000"}, rec.others, "the list, before the steps")
	raw, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "T#" + task.UUID}, "sk": &types.AttributeValueMemberS{Value: "S#join"}}})
	require.NoError(t, err)
	require.NotContains(t, raw.Item, "deps")
	require.Contains(t, raw.Item, "deps_ref")
	got := getStep(t, s, task.UUID, "join")
	require.Equal(t, conv.Dependencies, got.Dependencies)
	require.False(t, got.DependenciesMet())
}

// TestCreateTaskRejectedLeavesNoSteps: a creation DynamoDB rejects (the
// identity exists) removes the steps it wrote, and the out-of-line lists.
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

			second := newTask("suite", t0.Add(time.Second))
			second.IdentityHash = "same-identity"
			err := s.CreateTask(t.Context(), second, tt.steps())
			require.ErrorIs(t, err, workflow.ErrDuplicateTask)
			require.Equal(t, "create task: duplicate task", err.Error(), "the removal succeeded and is not reported")

			require.Empty(t, partition(t, db, table, second.UUID), "nothing is left under the rejected task's key")
			require.Len(t, partition(t, db, table, first.UUID), before, "the first task is untouched")
			owner, err := s.LookupIdentity(t.Context(), "same-identity")
			require.NoError(t, err)
			require.Equal(t, first.UUID, owner)
		})
	}
}

// TestCreateTaskFailedStepWriteLeavesNothing: when a batch of steps cannot
// be written, the task is not published and the batches written are removed.
func TestCreateTaskFailedStepWriteLeavesNothing(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{failBatchWrite: 2}
	s, db, table := recordedStore(t, rec)
	task := newTask("suite", t0)
	err := s.CreateTask(t.Context(), task, namedSteps("s", 120))
	require.ErrorContains(t, err, "injected BatchWriteItem failure")
	require.Empty(t, rec.transacts, "the task is not published")
	require.Empty(t, partition(t, db, table, task.UUID))
}

// TestCreateTaskUnknownOutcomeKeepsSteps: when the transaction's outcome is
// unknown (its reply lost), the steps stay, because the task may exist; here
// it does, and it is whole.
func TestCreateTaskUnknownOutcomeKeepsSteps(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{loseTransactReply: true}
	s, _, _ := recordedStore(t, rec)
	task := newTask("suite", t0)
	task.IdentityHash = "identity-" + uuid.NewString()
	err := s.CreateTask(t.Context(), task, namedSteps("s", 6))
	require.ErrorIs(t, err, errLostReply)
	require.NotErrorIs(t, err, workflow.ErrDuplicateTask)
	require.Zero(t, rec.deletes, "no step is deleted")
	getTask(t, s, task.UUID)
	steps, err := s.ListSteps(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, steps, 6)
}

// Package dynamo is Tasker's state store on Amazon DynamoDB. Every state change
// is a conditional write (or a transaction) guarded by the expected state and
// attempt, and appends its transition records to the item's history in the
// same write, so at-least-once delivery never applies a change twice and the
// audit trail never drifts from the stored state.
//
// One table holds everything (see docs/data-model.md):
//
//	T#<task>  TASK           the task (small: counters, state, history)
//	T#<task>  CTX            the task context (immutable, written once)
//	T#<task>  S#<step name>  a step
//	T#<task>  B#<id>#<n>     chunk n of a payload too large for its item or message
//	ID#<hash> ID             a task identity (deduplication)
//	TPL#<ns>/<name> V#<ver>  a registered template version
//	DLQ#<id>  DLQ            a DLQ entry (T#<task>/DLQ#<id> indexes it per task)
//	CB#<name> CB             a circuit breaker's shared state
//
// Backend errors are mapped to the workflow package's errors here and nowhere
// else: ErrNotFound, ErrConflict, ErrDuplicateTask, ErrTooLarge.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// API is the subset of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// SweepShards is the number of partitions of the sweep index. Items due for
// the sweeper spread over them so no single index partition runs hot.
const SweepShards = 8

// maxTransactItems is DynamoDB's limit of items per transaction.
const maxTransactItems = 100

// Store reads and writes Tasker's state table.
type Store struct {
	db    API
	table string
}

// New returns a store over the given table.
func New(db API, table string) *Store {
	return &Store{db: db, table: table}
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

func taskPK(task string) string { return "T#" + task }

const (
	skTask    = "TASK"
	skContext = "CTX"
)

func stepSK(name string) string { return "S#" + name }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{resources.AttrPK: str(pk), resources.AttrSK: str(sk)}
}

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func boolean(b bool) *types.AttributeValueMemberBOOL {
	return &types.AttributeValueMemberBOOL{Value: b}
}

func timeAttr(t time.Time) *types.AttributeValueMemberS {
	return str(t.UTC().Format(time.RFC3339Nano))
}

// sweepAt formats a due time so that it sorts lexically.
func sweepAt(t time.Time) *types.AttributeValueMemberS {
	return str(t.UTC().Format(sortableTime))
}

func sweepShard(pk, sk string) *types.AttributeValueMemberS {
	h := fnv.New32a()
	_, _ = h.Write([]byte(pk))
	_, _ = h.Write([]byte(sk))
	return str("SW#" + strconv.Itoa(int(h.Sum32()%SweepShards)))
}

// mapErr converts DynamoDB errors into workflow errors.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s: %w", op, workflow.ErrConflict)
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if r.Code != nil && *r.Code == "ConditionalCheckFailed" {
				return fmt.Errorf("%s: %w", op, workflow.ErrConflict)
			}
		}
		return fmt.Errorf("%s: transaction cancelled: %w", op, err)
	}
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return fmt.Errorf("%s: table missing: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// cancelledAt reports which transaction items failed their condition.
func cancelledAt(err error) []bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	out := make([]bool, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		out[i] = r.Code != nil && *r.Code == "ConditionalCheckFailed"
	}
	return out
}

package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// maxBatchWriteItems is DynamoDB's limit of requests per BatchWriteItem.
const maxBatchWriteItems = 25

// cleanupTimeout bounds the removal of what an uncreated task wrote, which
// runs even when the creating request's context has ended.
const cleanupTimeout = 10 * time.Second

// putUnpublished writes the context and the initial steps of a task that
// does not exist yet, with plain batch puts (one write unit per KB, not a
// transaction's two). Nobody can know the task's UUID before its task item
// is written, so an unconditional put clobbers no one's write, and nobody
// reads a context or a step without its task item. Long dependency lists are
// stored first, so no step points at a missing list.
func (s *Store) putUnpublished(ctx context.Context, t *workflow.Task, steps []*workflow.Step) error {
	if err := s.storeLongDependencies(ctx, t.UUID, steps); err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, 0, len(steps)+1)
	reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: contextItem(t)}})
	for _, st := range steps {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: stepItem(t.UUID, st)}})
	}
	return s.batchWriteAll(ctx, "put context and steps", reqs)
}

// removeUnpublished deletes what putUnpublished wrote for a task that was
// not created: the context, the steps and their out-of-line dependency
// lists. It runs on its own context, because the request's may have ended.
func (s *Store) removeUnpublished(ctx context.Context, taskUUID string, steps []*workflow.Step) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var reqs []types.WriteRequest
	del := func(sk string) {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(taskPK(taskUUID), sk)}})
	}
	del(skContext)
	for _, st := range steps {
		del(stepSK(st.Name))
		if ref := st.DependenciesRef; ref != nil && PayloadOwnedBy(ref, taskUUID) {
			for i := range ref.Chunks {
				del(fmt.Sprintf("%s#%04d", ref.SK, i))
			}
		}
	}
	return s.batchWriteAll(ctx, "remove context and steps of uncreated task "+taskUUID, reqs)
}

// batchWriteAll sends write requests in batches of 25, up to
// putStepsConcurrency at once, and returns the first error.
func (s *Store) batchWriteAll(ctx context.Context, what string, reqs []types.WriteRequest) error {
	if len(reqs) <= maxBatchWriteItems {
		return s.batchWrite(ctx, what, reqs)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, putStepsConcurrency)
	)
	for start := 0; start < len(reqs); start += maxBatchWriteItems {
		chunk := reqs[start:min(start+maxBatchWriteItems, len(reqs))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.batchWrite(ctx, what, chunk); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// batchWrite sends up to 25 write requests, retrying with backoff those
// DynamoDB leaves unprocessed.
func (s *Store) batchWrite(ctx context.Context, what string, reqs []types.WriteRequest) error {
	if len(reqs) == 0 {
		return nil
	}
	req := map[string][]types.WriteRequest{s.table: reqs}
	for attempt := 0; len(req) > 0; attempt++ {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
		if err != nil {
			return mapErr(what, err)
		}
		req = out.UnprocessedItems
		if len(req) > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	return nil
}

// notCommitted reports whether a failed write certainly did not apply:
// DynamoDB cancelled the transaction (a condition failed, a conflict) or
// rejected the request as invalid. Any other error (a timeout, a lost
// response, a throttled retry after an attempt that may have landed) leaves
// the outcome unknown. The SDK sends every attempt of one transaction with
// the same client token, so a cancellation means no attempt committed, and a
// request invalid once is invalid at every attempt. A single-item write
// failing its condition is not included: the retry of an attempt that landed
// fails the condition that attempt made false.
func notCommitted(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException"
}

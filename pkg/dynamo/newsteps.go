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

// cleanupTimeout bounds the removal of an uncreated task's steps, which runs
// even when the creating request's context has ended.
const cleanupTimeout = 10 * time.Second

// putUnpublishedSteps writes the initial steps of a task that does not exist
// yet, with plain batch puts (one write unit per KB, not a transaction's
// two). Nobody can know the task's UUID before the transaction that creates
// the task commits, so an unconditional put clobbers no one's write. Long
// dependency lists are stored first, so no step points at a missing list.
func (s *Store) putUnpublishedSteps(ctx context.Context, taskUUID string, steps []*workflow.Step) error {
	if err := s.storeLongDependencies(ctx, taskUUID, steps); err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, 0, len(steps))
	for _, st := range steps {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: stepItem(taskUUID, st)}})
	}
	return s.batchWriteAll(ctx, "put steps", reqs)
}

// removeUnpublishedSteps deletes what putUnpublishedSteps wrote for a task
// that was not created: the steps and their out-of-line dependency lists.
// It runs on its own context, because the request's may have ended.
func (s *Store) removeUnpublishedSteps(ctx context.Context, taskUUID string, steps []*workflow.Step) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var reqs []types.WriteRequest
	del := func(sk string) {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(taskPK(taskUUID), sk)}})
	}
	for _, st := range steps {
		del(stepSK(st.Name))
		if ref := st.DependenciesRef; ref != nil && PayloadOwnedBy(ref, taskUUID) {
			for i := range ref.Chunks {
				del(fmt.Sprintf("%s#%04d", ref.SK, i))
			}
		}
	}
	return s.batchWriteAll(ctx, "remove steps of uncreated task "+taskUUID, reqs)
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

// notCommitted reports whether a failed TransactWriteItems certainly did not
// commit: DynamoDB cancelled it (a condition failed, a conflict) or rejected
// it as invalid. Any other error (a timeout, a lost response, a throttled
// retry after an attempt that may have landed) leaves the outcome unknown.
// The SDK sends every attempt of one call with the same client token, so a
// cancellation means no attempt committed.
func notCommitted(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException"
}

// Package lambdafn adapts AWS Lambda events to the engine: the scheduler
// (orchestration queue), results (results queue) and sweeper (EventBridge
// schedule) handlers. Each handler has Lambda's typed signature, processes
// an SQS batch concurrently and reports partial batch failures, so one bad
// record never makes a whole batch redeliver.
package lambdafn

import (
	"context"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tasker-go/tasker/pkg/sqstrace"
)

// defaultConcurrency bounds the records of one batch processed at once.
const defaultConcurrency = 10

// processBatch runs fn for each record with bounded concurrency and returns
// the records fn failed as batch item failures.
func processBatch(ctx context.Context, log *slog.Logger, ev events.SQSEvent, concurrency int,
	fn func(ctx context.Context, body []byte) error) events.SQSEventResponse {
	if concurrency <= 0 {
		concurrency = defaultConcurrency
	}
	var (
		mu       sync.Mutex
		failures []events.SQSBatchItemFailure
		wg       sync.WaitGroup
		sem      = make(chan struct{}, concurrency)
	)
	for _, rec := range ev.Records {
		wg.Add(1)
		sem <- struct{}{}
		go func(rec events.SQSMessage) {
			defer func() { <-sem; wg.Done() }()
			if err := fn(sqstrace.ExtractEvent(ctx, rec.MessageAttributes), []byte(rec.Body)); err != nil {
				log.WarnContext(ctx, "record failed; SQS will redeliver it", "message_id", rec.MessageId, "error", err)
				mu.Lock()
				failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}(rec)
	}
	wg.Wait()
	return events.SQSEventResponse{BatchItemFailures: failures}
}

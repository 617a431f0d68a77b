package worker

import (
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tasker-go/tasker/pkg/sqstrace"
)

// HandleSQSEvent is the Lambda handler for a step queue's event source:
//
//	lambda.Start(w.HandleSQSEvent)
//
// It processes the event's records concurrently (at most
// Config.EventConcurrency at once) and reports the records that must be
// redelivered as batch item failures, so the event source mapping needs
// ReportBatchItemFailures enabled. Acknowledged records (done, duplicate or
// malformed) are not reported and SQS deletes them. It never returns an
// error: a failure of the whole invocation would redeliver records that are
// already done.
func (w *Worker) HandleSQSEvent(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, w.eventConcurrency)
	var wg sync.WaitGroup
	for i := range ev.Records {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			rctx := ctx
			if w.observer != nil {
				rctx = sqstrace.ExtractEvent(ctx, ev.Records[i].MessageAttributes)
			}
			failed[i] = w.Process(rctx, []byte(ev.Records[i].Body)) != nil
		}()
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

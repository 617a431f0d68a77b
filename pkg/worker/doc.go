// Package worker is Tasker's Go SDK for step handlers. A worker takes step
// messages from a namespace's SQS step queue, claims the step in the state
// table, runs the handler registered for the step's callable and reports the
// attempt's result on the results queue. The engine decides what happens
// next (complete, retry with backoff, fail); a handler only says what
// happened.
//
// Writing a handler:
//
//	reg := worker.NewRegistry()
//	reg.RegisterFunc("orders.validate", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
//		var order struct{ ID string `json:"order_id"` }
//		if err := s.DecodeContext(&order); err != nil {
//			return worker.Result{}, worker.Permanent(err).WithType("invalid_context")
//		}
//		if order.ID == "" {
//			return worker.Result{}, worker.Permanent(errors.New("order_id is required"))
//		}
//		return worker.Success(map[string]any{"order_id": order.ID, "valid": true})
//	})
//
// Errors: a handler returns a *Error built with Retryable, Permanent or
// RetryAfter to say whether the attempt may be retried. Any other error is
// treated as retryable, since an unknown failure is assumed to be transient;
// a context deadline is a retryable "timeout", a panic a retryable "panic".
// The retryable flag is part of the error and survives JSON (see
// Error.MarshalJSON).
//
// Hosting: in AWS Lambda, pass Worker.HandleSQSEvent to lambda.Start and
// enable ReportBatchItemFailures on the event source mapping. In a
// long-running process, call Worker.Poll, which long-polls the queue with
// bounded concurrency and shuts down gracefully when its context is
// cancelled.
//
// Delivery is at least once. The claim in the state table makes sure a
// duplicate or stale message never runs the handler twice for one attempt,
// but an attempt can still be retried after a crash, so handlers pass
// Step.IdempotencyKey (the step UUID, stable across attempts) to external
// systems.
//
// See docs/worker-sdk.md for the full guide.
package worker

package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/worker"
)

// validateOrder is a step handler: bad input is a permanent failure (no
// retry can fix it), a valid order succeeds with data for dependent steps.
func validateOrder(ctx context.Context, s *worker.Step) (worker.Result, error) {
	var order struct {
		OrderID string      `json:"order_id"`
		Amount  json.Number `json:"amount"`
	}
	if err := s.DecodeContext(&order); err != nil {
		return worker.Result{}, worker.Permanent(err).WithType("invalid_context")
	}
	if order.OrderID == "" {
		return worker.Result{}, worker.Permanent(errors.New("order_id is required")).WithType("invalid_order")
	}
	if amount, err := order.Amount.Float64(); err != nil || amount <= 0 {
		return worker.Result{}, worker.Permanent(fmt.Errorf("amount must be positive, got %q", order.Amount)).
			WithType("invalid_order").WithContext(map[string]string{"order_id": order.OrderID})
	}
	return worker.Success(map[string]any{"order_id": order.OrderID, "amount": order.Amount, "validated": true})
}

func Example_handler() {
	reg := worker.NewRegistry()
	reg.RegisterFunc("orders.validate", validateOrder)

	// A worker calls the handler with the step it claimed; here we call it
	// directly.
	h, _ := reg.Lookup("orders.validate")
	for _, taskContext := range []string{
		`{"order_id":"o-1","amount":250}`,
		`{"amount":250}`,
		`{"order_id":"o-2","amount":0}`,
	} {
		step := &worker.Step{Name: "validate_order", Context: json.RawMessage(taskContext)}
		res, err := h.Handle(context.Background(), step)
		var failure *worker.Error
		if errors.As(err, &failure) {
			fmt.Printf("retryable=%t type=%s: %s", failure.Retryable, failure.Type, failure.Message)
			if failure.Context != nil {
				fmt.Printf(" context=%s", failure.Context)
			}
			fmt.Println()
			continue
		}
		fmt.Println(string(res.Data))
	}
	// Output:
	// {"amount":250,"order_id":"o-1","validated":true}
	// retryable=false type=invalid_order: order_id is required
	// retryable=false type=invalid_order: amount must be positive, got "0" context={"order_id":"o-2"}
}

// A decision point returns the names of the steps to create.
func ExampleDecisionWith() {
	routeByAmount := func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		in, err := worker.ContextValue[struct{ Amount float64 }](s)
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		switch {
		case in.Amount < 1000:
			return worker.DecisionWith(map[string]any{"route": "auto"}, "auto_approve")
		case in.Amount < 5000:
			return worker.DecisionWith(map[string]any{"route": "manager"}, "manager_approval")
		default:
			return worker.DecisionWith(map[string]any{"route": "dual"}, "manager_approval", "finance_review")
		}
	}
	res, _ := routeByAmount(context.Background(), &worker.Step{Context: json.RawMessage(`{"amount":5000}`)})
	fmt.Println(string(res.Data))
	// Output:
	// {"decision_point_outcome":{"type":"create_steps","step_names":["manager_approval","finance_review"]},"route":"dual"}
}

// A batchable step splits its work into cursors; each becomes an instance
// of the batch worker template step.
func ExampleBatches() {
	res, _ := worker.Batches("process_batch", 2500, worker.RangeCursors(2500, 1000, 10)...)
	fmt.Println(string(res.Data))

	res, _ = worker.NoBatches()
	fmt.Println(string(res.Data))
	// Output:
	// {"batch_processing_outcome":{"type":"create_batches","worker_template_name":"process_batch","worker_count":3,"cursor_configs":[{"batch_id":"000","start_cursor":0,"end_cursor":834,"batch_size":834},{"batch_id":"001","start_cursor":834,"end_cursor":1668,"batch_size":834},{"batch_id":"002","start_cursor":1668,"end_cursor":2500,"batch_size":832}],"total_items":2500}}
	// {"batch_processing_outcome":{"type":"no_batches"}}
}

// Retryable or not is part of the error, and survives JSON.
func ExampleRetryAfter() {
	err := worker.RetryAfter(errors.New("rate limited by the payment gateway"), 30*time.Second).WithType("rate_limited")
	b, _ := json.Marshal(err)
	fmt.Println(string(b))

	var back worker.Error
	_ = json.Unmarshal(b, &back)
	fmt.Println(back.Retryable, back.RetryAfter)
	// Output:
	// {"message":"rate limited by the payment gateway","error_type":"rate_limited","retryable":true,"retry_after_seconds":30}
	// true 30s
}

// In AWS Lambda, the worker is the handler of the step queue's event source
// (with ReportBatchItemFailures enabled).
func ExampleWorker_HandleSQSEvent() {
	ctx := context.Background()
	opts := awsconn.FromEnv()
	cfg, err := awsconn.Load(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	reg := worker.NewRegistry()
	reg.RegisterFunc("orders.validate", validateOrder)
	w, err := worker.New(worker.Config{
		Store:           dynamo.New(awsconn.DynamoDB(cfg, opts), os.Getenv("TASKER_STATE_TABLE")),
		SQS:             awsconn.SQS(cfg, opts),
		ResultsQueueURL: os.Getenv("TASKER_RESULTS_QUEUE_URL"),
		Registry:        reg,
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(w.HandleSQSEvent)
}

// In a long-running process, Poll consumes the queue until the process is
// told to stop, then finishes the handlers in flight.
func ExampleWorker_Poll() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := awsconn.FromEnv()
	cfg, err := awsconn.Load(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	reg := worker.NewRegistry()
	reg.RegisterFunc("orders.validate", validateOrder)
	w, err := worker.New(worker.Config{
		Store:           dynamo.New(awsconn.DynamoDB(cfg, opts), os.Getenv("TASKER_STATE_TABLE")),
		SQS:             awsconn.SQS(cfg, opts),
		ResultsQueueURL: os.Getenv("TASKER_RESULTS_QUEUE_URL"),
		Registry:        reg,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Poll(ctx, worker.PollerConfig{QueueURL: os.Getenv("TASKER_STEP_QUEUE_URL"), Concurrency: 20}); err != nil {
		log.Fatal(err)
	}
}

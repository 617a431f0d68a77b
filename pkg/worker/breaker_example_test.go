package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/breaker"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/worker"
)

// gateway stands for a payment gateway client.
type gateway struct{}

func (gateway) Charge(ctx context.Context, idempotencyKey string, cents int64) (string, error) {
	return "ch_123", nil
}

// A handler calls its dependency through a breaker shared by every Lambda
// instance. While the gateway is failing, steps are retried after the
// breaker's cool-down instead of calling it.
func ExampleNewBreakers() {
	ctx := context.Background()
	opts := awsconn.FromEnv()
	cfg, err := awsconn.Load(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	store := dynamo.New(awsconn.DynamoDB(cfg, opts), os.Getenv("TASKER_STATE_TABLE"))
	breakers, err := worker.NewBreakers(store, map[string]breaker.Config{
		"payment-gateway": {FailureThreshold: 5, CoolDown: 30 * time.Second, SuccessThreshold: 2},
	})
	if err != nil {
		log.Fatal(err)
	}
	gw := gateway{}

	reg := worker.NewRegistry()
	reg.RegisterFunc("payments.charge", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		var order struct {
			Cents int64 `json:"amount_cents"`
		}
		if err := s.DecodeContext(&order); err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		var chargeID string
		err := breakers.Do(ctx, "payment-gateway", func(ctx context.Context) error {
			id, err := gw.Charge(ctx, s.IdempotencyKey(), order.Cents)
			chargeID = id
			return err
		})
		if err != nil {
			return worker.Result{}, err // circuit_open: retried after the cool-down
		}
		return worker.Success(map[string]string{"charge_id": chargeID})
	})
	w, err := worker.New(worker.Config{
		Store: store, SQS: awsconn.SQS(cfg, opts), ResultsQueueURL: os.Getenv("TASKER_RESULTS_QUEUE_URL"), Registry: reg,
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(w.HandleSQSEvent)
}

// A rejected call becomes a retryable error that asks for the rest of the
// cool-down.
func ExampleFromBreaker() {
	open := &breaker.OpenError{Name: "payment-gateway", State: breaker.Open, RetryAfter: 18 * time.Second}
	b, _ := json.Marshal(worker.FromBreaker(open))
	fmt.Println(string(b))
	// Output:
	// {"message":"circuit breaker \"payment-gateway\" is open; retry in 18s","error_type":"circuit_open","retryable":true,"retry_after_seconds":18,"context":{"breaker":"payment-gateway","retry_after_ms":18000,"state":"open"}}
}

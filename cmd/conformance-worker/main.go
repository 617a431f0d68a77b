// Command conformance-worker is the Go SDK's worker for the conformance
// suite (pkg/conformance): it hosts the contract's conformance.* handlers on
// a long-running poller of TASKER_STEP_QUEUE_URL, prints READY once polling
// and one EFFECT line per handler run on stdout, logs to stderr, and exits 0
// after SIGTERM once in-flight steps have reported.
//
// Environment: AWS_ENDPOINT_URL, AWS_REGION and credentials as for any AWS
// SDK, TASKER_STATE_TABLE, TASKER_STEP_QUEUE_URL, TASKER_RESULTS_QUEUE_URL.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/conformance"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/worker"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("conformance worker stopped", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := readEnv()
	if err != nil {
		return err
	}
	opts := awsconn.FromEnv()
	cfg, err := awsconn.Load(ctx, opts)
	if err != nil {
		return err
	}
	sqsClient := awsconn.SQS(cfg, opts)
	reg := worker.NewRegistry()
	conformance.RegisterGoHandlers(reg, os.Stdout)
	w, err := worker.New(worker.Config{
		Store:           dynamo.New(awsconn.DynamoDB(cfg, opts), env[conformance.EnvStateTable]),
		SQS:             sqsClient,
		ResultsQueueURL: env[conformance.EnvResultsQueueURL],
		Registry:        reg,
		Logger:          log,
	})
	if err != nil {
		return err
	}
	stepQueue := env[conformance.EnvStepQueueURL]
	if _, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(stepQueue)}); err != nil {
		return fmt.Errorf("step queue %s: %w", stepQueue, err)
	}
	fmt.Println("READY")
	err = w.Poll(ctx, worker.PollerConfig{QueueURL: stepQueue})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// readEnv returns the contract's required variables, or an error naming the
// missing ones.
func readEnv() (map[string]string, error) {
	env := map[string]string{}
	var missing []string
	for _, name := range []string{conformance.EnvStateTable, conformance.EnvStepQueueURL, conformance.EnvResultsQueueURL} {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		env[name] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variables %v", missing)
	}
	return env, nil
}

// Command worker is a Lambda function hosting the sample templates' step
// handlers: an SQS event source on a namespace's step queue invokes it, and
// it reports partial batch failures. Your own worker function looks the same
// with your registry.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/worker"
)

func main() {
	ctx := context.Background()
	deps, err := lambdafn.FromEnv(ctx, "worker")
	if err != nil {
		log.Fatalf("worker: %v", err)
	}
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	w, err := deps.NewWorker(ctx, reg)
	if err != nil {
		log.Fatalf("worker: %v", err)
	}
	lambda.Start(lambdafn.WithFlush(deps.Telemetry, deps.Logger, w.HandleSQSEvent))
}

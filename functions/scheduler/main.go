// Command scheduler is the Lambda function consuming the orchestration queue:
// task starts, due retries and re-drives.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/lambdafn"
)

func main() {
	deps, err := lambdafn.FromEnv(context.Background(), "scheduler")
	if err != nil {
		log.Fatalf("scheduler: %v", err)
	}
	h := &lambdafn.Scheduler{Engine: deps.Engine, Logger: deps.Logger, Telemetry: deps.Telemetry}
	lambda.Start(lambdafn.WithFlush(deps.Telemetry, deps.Logger, h.Handle))
}

// Command results is the Lambda function consuming the results queue: it
// applies every worker's step results.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/lambdafn"
)

func main() {
	deps, err := lambdafn.FromEnv(context.Background(), "results")
	if err != nil {
		log.Fatalf("results: %v", err)
	}
	h := &lambdafn.Results{Engine: deps.Engine, Logger: deps.Logger, Telemetry: deps.Telemetry}
	lambda.Start(lambdafn.WithFlush(deps.Telemetry, deps.Logger, h.Handle))
}

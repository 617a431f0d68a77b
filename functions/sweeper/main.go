// Command sweeper is the Lambda function an EventBridge schedule invokes:
// it starts tasks left pending, resends lost step messages, times out steps
// whose worker died and runs retries beyond SQS's 15-minute delay.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/lambdafn"
)

func main() {
	deps, err := lambdafn.FromEnv(context.Background(), "sweeper")
	if err != nil {
		log.Fatalf("sweeper: %v", err)
	}
	h := &lambdafn.Sweeper{Engine: deps.Engine, Logger: deps.Logger, Telemetry: deps.Telemetry}
	lambda.Start(lambdafn.WithFlush(deps.Telemetry, deps.Logger, h.Handle))
}

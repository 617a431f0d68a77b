// Command intake is the Lambda function behind the API Gateway HTTP API: it
// creates tasks and answers queries about them.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/lambdafn"
)

func main() {
	deps, err := lambdafn.FromEnv(context.Background(), "intake")
	if err != nil {
		log.Fatalf("intake: %v", err)
	}
	h, err := api.New(api.Config{Engine: deps.Engine, Logger: deps.Logger})
	if err != nil {
		log.Fatalf("intake: %v", err)
	}
	lambda.Start(lambdafn.WithFlush(deps.Telemetry, deps.Logger, h.Handle))
}
